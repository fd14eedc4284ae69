"""Issue 14: hostile mail through real SMTP and the worker's job ends stored and final, or refused.

A small run of ``bench/fuzz_ingest.py`` (which runs 10,000) on the suite's database.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from fuzz_ingest import run

pytestmark = pytest.mark.slow


@pytest.mark.timeout(600)
async def test_hostile_mail_ends_stored_and_final_or_refused(database_url: str, tmp_path: Path) -> None:
    figures = await run(database_url, tmp_path, n=200, seed=1414, concurrency=8)
    report = "\n".join(figures.lines() + figures.tracebacks[:10] + figures.client_errors[:10])
    assert figures.sent == 200, report
    assert figures.sent == figures.accepted + sum(figures.refused.values()), report
    assert not figures.client_errors, report
    assert figures.stuck == 0 and figures.failed_without_reason == 0 and figures.missing == 0, report
    assert not figures.tracebacks, report
    assert figures.refused.keys() <= {550, 552, 554}, report
    assert len(figures.families) >= 15, report  # the families are drawn, not one by chance
