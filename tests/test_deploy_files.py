"""The deployment files name only commands and settings that exist (nothing heavy is built)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer

from cli.main import app
from feedback.runtime.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
FILES = [
    "Dockerfile",
    "compose.yaml",
    *(str(p.relative_to(ROOT)) for p in (ROOT / "deploy").rglob("*") if p.is_file()),
]


def _command_exists(argv: list[str]) -> bool:
    """Whether `feedback ARGV...` names a command (and its options) the CLI has."""
    group: Any = typer.main.get_command(app)
    args = list(argv)
    while args and hasattr(group, "list_commands"):  # a group (typer may vendor its own click)
        sub = group.get_command(group.context_class(group), args[0])
        if sub is None:
            return False
        group, args = sub, args[1:]
    options = {opt for param in group.params for opt in getattr(param, "opts", [])} | {
        opt for param in group.params for opt in getattr(param, "secondary_opts", [])
    }
    return all(a in options for a in args if a.startswith("--"))


def _invocations(text: str) -> list[list[str]]:
    found = []
    for m in re.finditer(r"(?m)^\s*(?:command:|CMD)\s*(\[[^\]]*\])", text):  # compose / Dockerfile CMD
        found.append(re.findall(r'"([^"]+)"', m.group(1)))
    for m in re.finditer(
        r"(?:^|\s)(?:/opt/feedback/bin/)?feedback ((?:[a-z][\w-]*|--[\w-]+)(?: (?:[a-z][\w-]*|--[\w-]+))*)",
        text,
    ):
        found.append(shlex.split(m.group(1)))
    return found


@pytest.mark.parametrize("name", FILES)
def test_commands_and_settings_named_in_deploy_files_exist(name: str) -> None:
    text = (ROOT / name).read_text("utf-8")
    text = "\n".join(
        line for line in text.splitlines() if not line.startswith("COPY ")
    )  # paths, not commands
    for argv in _invocations(text):
        if argv[0] in {"redis-server", "pg_isready"}:
            continue
        assert _command_exists(argv), f"{name}: `feedback {' '.join(argv)}` is not a command"
    for var in set(re.findall(r"FEEDBACK_([A-Z_]+)", text)):
        assert var.lower() in Settings.model_fields, f"{name}: FEEDBACK_{var} is no setting"


def test_the_dockerfile_entrypoint_is_the_cli() -> None:
    text = (ROOT / "Dockerfile").read_text("utf-8")
    assert 'ENTRYPOINT ["feedback"]' in text and 'CMD ["serve", "--no-worker"]' in text
