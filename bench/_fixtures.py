"""What the held-out suites' assemblers share: reading a project's mirror, naming a gold as a piece
of a fixture (no fixture text retyped), and writing the suites' rows.

Each ``bench/heldout_suites*/assemble.py`` rebuilds its rows byte for byte from the projects' git
mirrors; the functions here are the common part of that, so the sets are cut the same way.
"""

from __future__ import annotations

import email
import html
import json
import re
import subprocess
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

SUITE = "@suite"  # the project's exact expected value


def show(git_dir: str, path: str) -> str:
    """A file of the mirror's HEAD, as text."""
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", f"HEAD:{path}"], check=True, capture_output=True
    ).stdout.decode("utf-8", "replace")


def ls(git_dir: str, folder: str) -> list[str]:
    """The names in one folder of the mirror's HEAD, sorted."""
    out = subprocess.run(
        ["git", f"--git-dir={git_dir}", "ls-tree", "--name-only", f"HEAD:{folder}"],
        check=True,
        capture_output=True,
    ).stdout.decode()
    return sorted(out.split())


def key(text: str) -> str:
    """A fixture's text with whitespace collapsed: how a case is recognised in another set."""
    return re.sub(r"\s+", " ", text).strip()


def _start(lines: list[str], marker: str, after: int = 0) -> int:
    return next(i for i in range(after, len(lines)) if lines[i].strip().startswith(marker))


def gold(spec: str, text: str, suite_value: str) -> str:
    """The gold of a case: a literal, or a piece of the fixture named by a spec: ``@suite`` (the
    project's expected value), ``@whole``, ``@before:LINE`` (up to the first line starting with
    LINE), ``@from:LINE`` (from the first line starting with LINE to the end), ``@between:A|B``
    (from the line starting with A up to the next starting with B), ``@lines:I:J`` (lines I to
    J-1); ``@join:SPEC ++ SPEC`` joins pieces (an inline answer); ``@cut:LINE`` is the project's
    value up to its first line starting with LINE (a trailing sign-off dropped)."""
    lines = text.replace("\r\n", "\n").split("\n")
    if spec == SUITE:
        return suite_value
    if spec.startswith("@cut:"):
        value = suite_value.split("\n")
        return "\n".join(value[: _start(value, spec[5:])]).strip()
    if spec.startswith("@join:"):
        return "\n\n".join(gold(part, text, suite_value) for part in spec[6:].split(" ++ "))
    if spec == "@whole":
        return text.strip()
    if spec.startswith("@before:"):
        return "\n".join(lines[: _start(lines, spec.split(":", 1)[1])]).strip()
    if spec.startswith("@from:"):
        return "\n".join(lines[_start(lines, spec.split(":", 1)[1]) :]).strip()
    if spec.startswith("@between:"):
        first, last = spec.split(":", 1)[1].split("|")
        start = _start(lines, first)
        return "\n".join(lines[start : _start(lines, last, start + 1)]).strip()
    if spec.startswith("@lines:"):
        i, j = (int(x) for x in spec.split(":")[1:3])
        return "\n".join(lines[i:j]).strip()
    return spec


def eml_text(raw: str) -> str:
    """The body of an ``.eml`` fixture as text to cut the gold from (the text part, else the HTML
    part with tags dropped): only for naming the gold, never given to a parser."""
    msg = email.message_from_string(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    body = msg.get_body(preferencelist=("plain", "html"))
    assert body is not None
    text = str(body.get_content())
    if body.get_content_type() == "text/html":
        text = re.sub(r"<(br|/div|/p)\b[^>]*>", "\n", text, flags=re.IGNORECASE)
        text = html.unescape(re.sub(r"<[^>]*>", "", text)).replace("\xa0", " ")
    return text


def write_suites(
    out: Path, suites: dict[str, list[dict[str, Any]]], left_out: dict[str, int], why: str
) -> None:
    """One ``NAME.jsonl`` per suite in ``out``, a line each: the cases and how many were left out."""
    for name, cases in suites.items():
        with (out / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for row in cases:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"{name}: {len(cases)} cases ({left_out.get(name, 0)} left out: {why})")
