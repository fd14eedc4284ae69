"""`make demo` is a newcomer's first command: it runs end to end and writes every report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from feedback.reports import REPORTS

pytestmark = pytest.mark.slow


def test_the_demo_replays_the_weeks_and_writes_every_report(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "160"}
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "demo", "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Demo finished" in result.stdout and "CRM and rep disagree" in result.stdout
    assert sorted(p.stem for p in (data / "reports").glob("*.html")) == sorted(REPORTS)
    assert len(list((data / "outbox" / "new").iterdir())) > 60  # requests, reminders, escalations
