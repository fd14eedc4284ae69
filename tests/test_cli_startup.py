"""The CLI starts fast and every registered command loads (an import error is loud, not skipped)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cli.main import COMMANDS, GROUPS, app, load_command


@pytest.mark.parametrize("name", [*COMMANDS, *GROUPS])
def test_every_registered_command_loads_and_has_help(name: str) -> None:
    command = load_command(name)
    assert command is not None and command.name == name
    result = CliRunner().invoke(app, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_help_lists_every_command_without_importing_the_product() -> None:
    code = (
        "import sys, cli.main\n"
        "mods = ('sqlalchemy', 'pydantic', 'feedback.storage.db', 'feedback.runtime.settings')\n"
        "heavy = [m for m in mods if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""  # `feedback --help` needs none of them
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in [*COMMANDS, *GROUPS]:
        assert f"  {name} " in result.output


def test_an_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["bogus"])
    assert result.exit_code == 2 and "No such command" in result.output


HEAVY = (
    "sqlalchemy",
    "sqlmodel",
    "jinja2",
    "arq",
    "feedback.storage.db",
    "feedback.storage.models",
    "feedback.runtime.settings",
)


def _help_loads(args: list[str]) -> list[str]:
    """The heavy modules a `feedback ARGS --help` imports, run in a fresh interpreter."""
    code = (
        "import sys\n"
        "from cli.main import app\n"
        "try:\n"
        f"    app({args!r} + ['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('LOADED:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = out.stdout.rpartition("LOADED:")[2].strip()
    return [m for m in loaded.split(",") if m]


@pytest.mark.parametrize("name", [n for n in [*COMMANDS, *GROUPS] if n != "demo"])
def test_help_of_every_command_and_group_imports_no_database_layer(name: str) -> None:
    """`feedback report --help` and the like stay well under 0.3 s of imports: no database layer,
    no Jinja2 and no settings until a command runs (``demo`` builds its world at import)."""
    assert _help_loads([name]) == []


def test_help_of_a_report_imports_no_database_layer() -> None:
    assert _help_loads(["report", "summary"]) == []
