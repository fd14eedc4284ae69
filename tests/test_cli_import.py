"""`feedback import` and `feedback reps` through the real Typer app, on a temp data dir."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from cli.main import app
from feedback.storage.db import make_engine, upgrade
from feedback.storage.models import Deal, Lead, Rep

SAMPLE = Path(str(resources.files("feedback") / "data" / "sample"))
runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "feedback.toml"
    config.write_text("")
    return {
        "FEEDBACK_DATA_DIR": str(tmp_path / "var"),
        "FEEDBACK_DATABASE_URL": "sqlite:///" + str(tmp_path / "var" / "feedback.db"),
        "FEEDBACK_CONFIG": str(config),
        "COLUMNS": "200",
    }


def invoke(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def counts(env: dict[str, str]) -> tuple[int, int, int]:
    engine = make_engine(env["FEEDBACK_DATABASE_URL"])
    upgrade(engine)  # a refused file never opens the database
    try:
        with Session(engine) as session:
            return tuple(  # type: ignore[return-value]
                session.exec(select(func.count()).select_from(m)).one() for m in (Rep, Lead, Deal)
            )
    finally:
        engine.dispose()


def test_sample_imports_and_reimport_is_unchanged(env: dict[str, str]) -> None:
    for kind in ("reps", "leads", "deals"):
        code, out, _ = invoke(env, "import", kind, str(SAMPLE / f"{kind}.csv"))
        assert code == 0, out
        assert "created, 0 updated, 0 rows refused" in out
    assert counts(env) == (6, 24, 12)
    code, out, _ = invoke(env, "import", "leads", str(SAMPLE / "leads.csv"))
    assert (code, "0 created, 0 updated, 24 unchanged, 0 rows refused" in out) == (0, True)
    assert counts(env) == (6, 24, 12)


def test_dry_run_writes_nothing(env: dict[str, str]) -> None:
    code, out, _ = invoke(env, "import", "reps", str(SAMPLE / "reps.csv"), "--dry-run")
    assert code == 0
    assert "6 created" in out and "dry run" in out
    assert counts(env) == (0, 0, 0)


def test_refused_rows_listed_with_lines_and_partial_import_exits_zero(
    env: dict[str, str], tmp_path: Path
) -> None:
    invoke(env, "import", "reps", str(SAMPLE / "reps.csv"))
    path = tmp_path / "leads.csv"
    path.write_text(
        'id,name,rep\nL1,"Two\nlines",Maya Okafor\nL2,Ghost,Casper Nobody\n'
        "L3,Fine,tom.eriksen@brightline.example\n"
    )
    code, out, err = invoke(env, "import", "leads", str(path), "--format", "json")
    assert code == 0
    assert "2 created, 0 updated, 1 row refused" in err  # summary kept off stdout for json
    rows = json.loads(out)
    assert [(r["line"], r["status"]) for r in rows] == [(2, "refused"), (4, "never asked")]
    assert "line break" in rows[0]["reason"]
    assert "Casper Nobody" in rows[1]["reason"]


def test_every_row_failing_exits_2(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "deals.csv"
    path.write_text("id,name,amount\nD1,A,lots\nD2,B,plenty\n")
    code, out, _ = invoke(env, "import", "deals", str(path), "--format", "csv")
    assert code == 2
    assert out.splitlines()[0] == "line,status,reason"
    assert len(out.splitlines()) == 3
    assert counts(env) == (0, 0, 0)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image"),
        ("leads.json", b'[{"id": "L1"}]', "JSON"),
        ("empty.csv", b"", "empty"),
    ],
)
def test_non_csv_file_refused_with_exit_2(
    env: dict[str, str], tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    code, _, err = invoke(env, "import", "leads", str(path))
    assert code == 2
    assert "refused, nothing imported" in err and message in err
    assert counts(env) == (0, 0, 0)


def test_missing_file_is_a_clear_error(env: dict[str, str], tmp_path: Path) -> None:
    code, _, err = invoke(env, "import", "reps", str(tmp_path / "nope.csv"))
    assert code == 2
    assert "cannot read" in err


def test_help_names_the_understood_columns(env: dict[str, str]) -> None:
    code, out, _ = invoke(env, "import", "deals", "--help")
    assert code == 0
    for column in ("Opportunity ID", "Deal Stage", "Associated Contact IDs", "--dry-run"):
        assert column in out


def test_reps_commands(env: dict[str, str]) -> None:
    invoke(env, "import", "reps", str(SAMPLE / "reps.csv"))
    code, out, _ = invoke(env, "reps", "list", "--team", "Enterprise", "--format", "json")
    assert code == 0
    listed = json.loads(out)
    assert len(listed) == 3 and {r["team"] for r in listed} == {"Enterprise"}
    assert any(r["aliases"] for r in listed)

    code, out, _ = invoke(
        env, "reps", "add", "New.Rep@brightline.example", "--name", "New Rep", "--team", "East"
    )
    assert (code, "Added rep new.rep@brightline.example" in out) == (0, True)
    code, out, _ = invoke(env, "reps", "add", "new.rep@brightline.example", "--language", "de")
    assert (code, "Updated" in out) == (0, True)

    code, out, _ = invoke(env, "reps", "alias", "new.rep@brightline.example", "nr@home.example")
    assert (code, "now an alias" in out) == (0, True)
    code, _, err = invoke(env, "reps", "alias", "tom.eriksen@brightline.example", "nr@home.example")
    assert code == 1 and "already an alias" in err

    code, out, _ = invoke(env, "reps", "deactivate", "new.rep@brightline.example")
    assert (code, "Deactivated" in out) == (0, True)
    code, out, _ = invoke(env, "reps", "list", "--format", "csv")
    assert "new.rep@brightline.example" not in out
    code, out, _ = invoke(env, "reps", "list", "--all", "--format", "csv")
    assert "new.rep@brightline.example,New Rep,East,,de,nr@home.example,False" in out

    for args in (
        ("deactivate", "ghost@brightline.example"),
        ("alias", "ghost@brightline.example", "g@x.example"),
    ):
        code, _, err = invoke(env, "reps", *args)
        assert code == 1 and "no rep with the address" in err


def test_import_reps_deactivate_missing_and_the_next_leads_import_hands_over(
    env: dict[str, str], tmp_path: Path
) -> None:
    """A full user export without Ann deactivates her; the leads export naming Ben as the owner
    hands her open request to him (the request mail goes to Ben, printed)."""
    from datetime import datetime

    from feedback.storage.models import FeedbackRequest

    reps = tmp_path / "reps.csv"
    reps.write_text("Email,Name\nann@x.example,Ann\nben@x.example,Ben\n")
    leads = tmp_path / "leads.csv"
    leads.write_text("Lead ID,Name,Owner Email,Created Date\nL1,Lead one,ann@x.example,2026-03-01\n")
    assert invoke(env, "import", "reps", str(reps))[0] == 0
    assert invoke(env, "import", "leads", str(leads))[0] == 0
    engine = make_engine(env["FEEDBACK_DATABASE_URL"])
    try:
        with Session(engine) as s:
            ann = s.exec(select(Rep).where(Rep.email == "ann@x.example")).one()
            lead = s.exec(select(Lead)).one()
            s.add(
                FeedbackRequest(
                    kind="disposition", lead_id=lead.id, rep_id=ann.id or 0, sent_at=datetime(2026, 3, 2)
                )
            )
            s.commit()
        reps.write_text("Email,Name\nben@x.example,Ben\n")
        code, out, _ = invoke(env, "import", "reps", str(reps), "--deactivate-missing")
        assert code == 0 and "Deactivated 1 rep(s): ann@x.example" in out, out
        leads.write_text("Lead ID,Name,Owner Email,Created Date\nL1,Lead one,ben@x.example,2026-03-01\n")
        code, out, _ = invoke(env, "import", "leads", str(leads))
        assert code == 0 and "ann@x.example left; handed to ben@x.example (new owner)" in out, out
        with Session(engine) as s:
            request = s.exec(select(FeedbackRequest)).one()
            assert s.get(Rep, request.rep_id).email == "ben@x.example"  # type: ignore[union-attr]
    finally:
        engine.dispose()
