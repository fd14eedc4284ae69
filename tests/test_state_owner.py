"""One owner for every state: no code outside feedback/storage/lifecycle.py assigns a request's, a
message's or a review item's status (reads and queries are fine; the bulk SQL of the store, which
moves received -> queued and a data error -> failed, names the lifecycle's enum)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSIGN = re.compile(r"\b(?!out\b|self\b)\w+\.status\s*(?:=(?!=)|,\s*\w+\.resolved_at)")


def test_no_status_is_assigned_outside_the_lifecycle_module() -> None:
    offenders = []
    for folder in ("feedback", "cli", "workers"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "lifecycle.py" or "migrations" in path.parts:
                continue
            for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
                if ASSIGN.search(line) and not line.lstrip().startswith("#"):
                    offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == [], "status assigned outside feedback/storage/lifecycle.py:\n" + "\n".join(offenders)


def test_the_pattern_finds_what_it_looks_for() -> None:
    assert ASSIGN.search("    request.status = RequestStatus.answered")
    assert ASSIGN.search("item.status, item.resolved_at, item.resolved_by = 'resolved', now, by")
    assert not ASSIGN.search("if request.status == RequestStatus.sent:")
    assert not ASSIGN.search("out.status = MessageStatus.ignored  # the result, not a stored state")


def test_no_two_modules_share_a_name() -> None:
    """A name says what a module does; two `settings` or two `process_message` made readers guess."""
    from collections import Counter

    root = Path(__file__).resolve().parents[1]
    names = Counter(
        path.name
        for folder in ("feedback", "cli", "workers")
        for path in (root / folder).rglob("*.py")
        if path.name != "__init__.py" and "migrations" not in path.parts
    )
    assert [name for name, n in names.items() if n > 1] == []
