"""Wrong input gives one line `error: what — what to do` and a non-zero exit, never a traceback.

Through the real Typer app (CliRunner) on both backends: the `database_url` fixture is a SQLite
file or a fresh PostgreSQL database.
"""

from __future__ import annotations

import json
import mailbox
from collections.abc import Iterator
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.main import get_command
from typer.testing import CliRunner, Result

from cli.common import FeedbackGroup, root_callback
from cli.main import app
from feedback.runtime.redis_embedded import EmbeddedRedis
from feedback.runtime.settings import ConfigError, load_settings
from feedback.storage.db import current_revision, make_engine, revisions
from feedback.storage.models import (
    FeedbackRequest,
    InboundMessage,
    Lead,
    Rep,
    RequestStatus,
    ReviewItem,
    utcnow,
)

SAMPLE = Path(str(resources.files("feedback") / "data" / "sample"))
runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    """A data dir that does not exist yet (nothing creates it on PostgreSQL), an empty config."""
    config = tmp_path / "feedback.toml"
    config.write_text("")
    return {
        "FEEDBACK_DATA_DIR": str(tmp_path / "var"),
        "FEEDBACK_DATABASE_URL": database_url,
        "FEEDBACK_SECRET": "test-secret",
        "FEEDBACK_CONFIG": str(config),
        "FEEDBACK_SEND_SINCE": "2020-01-01T00:00:00",
        "FEEDBACK_BUSINESS_TIME": "false",  # the suite runs at any hour, on any day
        "COLUMNS": "200",
    }


@pytest.fixture
def db(env: dict[str, str]) -> Iterator[Engine]:
    engine = make_engine(env["FEEDBACK_DATABASE_URL"])
    yield engine
    engine.dispose()


def invoke(env: dict[str, str], *args: str, input: str | None = None) -> Result:
    return runner.invoke(app, list(args), env=env, input=input)


def error_lines(result: Result) -> list[str]:
    """The error lines on stderr; asserts there is nothing else there and no traceback."""
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and all(line.startswith("error: ") for line in lines), result.stderr
    return lines


# --output ---------------------------------------------------------------------------------


def _commands_with_output() -> list[list[str]]:
    """Every command (path of names) that takes --output and needs no argument."""
    found: list[list[str]] = []

    def walk(command: object, path: list[str]) -> None:
        if hasattr(command, "list_commands"):  # a group (the root loads its commands on use)
            group: Any = command
            for name in group.list_commands(None):
                walk(group.get_command(None, name), [*path, name])
            return
        params = getattr(command, "params", [])
        if any(p.name == "output" for p in params) and not any(
            p.required and p.param_type_name == "argument" for p in params
        ):
            found.append(path)

    walk(get_command(app), [])
    return found


def test_every_output_option_refuses_a_folder_and_a_missing_folder(
    env: dict[str, str], tmp_path: Path
) -> None:
    commands = _commands_with_output()
    assert ["report", "summary"] in commands
    for command in commands:
        result = invoke(env, *command, "--output", str(tmp_path))
        assert result.exit_code == 2, (command, result.output)
        [line] = error_lines(result)
        assert f"{tmp_path} is a folder" in line and "give a file name" in line
        missing = tmp_path / "no-such-folder" / "report.html"
        result = invoke(env, *command, "--output", str(missing))
        assert result.exit_code == 2, (command, result.output)
        [line] = error_lines(result)
        assert f"the folder {missing.parent} does not exist" in line and "mkdir -p" in line
        assert not missing.parent.exists()


def test_output_to_a_file_in_an_existing_folder_still_works(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "summary.json"
    result = invoke(env, "report", "summary", "--format", "json", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())


# db downgrade -----------------------------------------------------------------------------


def test_db_downgrade_to_an_unknown_revision_says_how_to_list_them(env: dict[str, str], db: Engine) -> None:
    assert invoke(env, "db", "upgrade").exit_code == 0
    head = current_revision(db)
    result = invoke(env, "db", "downgrade", "bogus", "--yes")
    assert result.exit_code == 2
    [line] = error_lines(result)
    assert "no migration 'bogus'" in line and "feedback db history" in line and "base" in line
    assert current_revision(db) == head
    history = invoke(env, "db", "history", "--format", "json")
    assert history.exit_code == 0, history.output
    rows = json.loads(history.stdout)
    assert [r["revision"] for r in rows] == [rev for rev, _ in revisions()]
    assert [r["revision"] for r in rows if r["current"]] == [head]


def test_db_downgrade_asks_first_unless_yes(env: dict[str, str], db: Engine) -> None:
    assert invoke(env, "db", "upgrade").exit_code == 0
    ids = [rev for rev, _ in revisions()]
    head, previous = ids[-1], ids[-2]
    refused = invoke(env, "db", "downgrade", "-1", input="n\n")
    assert refused.exit_code == 1 and head in refused.output  # the question names what is undone
    assert current_revision(db) == head
    accepted = invoke(env, "db", "downgrade", "-1", input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert current_revision(db) == previous
    assert invoke(env, "db", "upgrade").exit_code == 0
    assert invoke(env, "db", "downgrade", previous, "--yes").exit_code == 0
    assert current_revision(db) == previous
    newer = invoke(env, "db", "downgrade", head, "--yes")  # forward is not a downgrade
    assert newer.exit_code == 2 and "db upgrade" in error_lines(newer)[0]
    assert invoke(env, "db", "upgrade").exit_code == 0


def test_commands_refuse_a_database_behind_head_and_only_the_services_upgrade_it(
    env: dict[str, str], db: Engine
) -> None:
    """Reading a report never migrates: a schema behind head is refused with what to run."""
    ids = [rev for rev, _ in revisions()]
    assert invoke(env, "status").exit_code == 0  # an empty database is created at head
    assert current_revision(db) == ids[-1]
    assert invoke(env, "db", "downgrade", "-1", "--yes").exit_code == 0
    for args in (["report", "summary"], ["status"], ["review", "list"], ["answers", "list"]):
        result = invoke(env, *args)
        assert result.exit_code == 1, (args, result.output)
        [line] = error_lines(result)
        assert ids[-2] in line and ids[-1] in line and "feedback db upgrade" in line
        assert current_revision(db) == ids[-2]  # nothing migrated behind the user's back
    burst = invoke(env, "worker", "--burst")  # a service may upgrade its database
    assert burst.exit_code == 0, burst.output
    assert current_revision(db) == ids[-1]
    with db.begin() as conn:  # an older feedback on a newer schema
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999_future'")
    newer = invoke(env, "report", "summary")
    assert newer.exit_code == 1 and "newer than this version" in error_lines(newer)[0]
    with db.begin() as conn:
        conn.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{ids[-1]}'")


# settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["report", "summary"],
        ["reps", "list"],
        ["send", "--dry-run"],
        ["parse", "-", "--kind", "winloss"],
    ],
)
def test_an_unknown_time_zone_in_the_config_file_stops_every_command(
    env: dict[str, str], tmp_path: Path, command: list[str]
) -> None:
    Path(env["FEEDBACK_CONFIG"]).write_text('timezone = "Mars/Olympus"\n')
    result = invoke(env, *command)
    assert result.exit_code == 2
    [line] = error_lines(result)
    assert "timezone = 'Mars/Olympus'" in line and env["FEEDBACK_CONFIG"] in line
    assert "not a known time zone" in line and "Europe/Berlin" in line


def test_settings_errors_are_one_line_per_bad_field_naming_their_source(env: dict[str, str]) -> None:
    result = invoke({**env, "FEEDBACK_TIMEZONE": "Mars/Olympus", "FEEDBACK_SMTP_PORT": "many"}, "status")
    assert result.exit_code == 2
    lines = error_lines(result)
    assert len(lines) == 2
    assert any("smtp_port = 'many' (from FEEDBACK_SMTP_PORT)" in line for line in lines)
    assert any("timezone = 'Mars/Olympus' (from FEEDBACK_TIMEZONE)" in line for line in lines)
    with pytest.raises(ConfigError) as caught:
        load_settings({}, timezone="Nowhere/Else", crm_stages={"Closed Won": "won", "Gone": "vanished"})
    assert caught.value.exit_code == 2
    assert [line.split(" =")[0].split(" (")[0] for line in str(caught.value).splitlines()] == [
        "setting timezone",
        "setting crm_stages",
    ]
    assert load_settings({}, timezone="Europe/Berlin").timezone == "Europe/Berlin"


# parse ------------------------------------------------------------------------------------


def test_parse_of_a_missing_file_prints_unreadable_and_exits_1(env: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "missing.eml"
    good = tmp_path / "good.eml"
    good.write_bytes(b"From: a@b.example\r\nSubject: Re: lead\r\n\r\nAccepted, meeting booked.\r\n")
    result = invoke(env, "parse", str(good), str(missing), "--kind", "disposition", "--json")
    assert result.exit_code == 1
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["file"] for o in objects] == [str(good), str(missing)]
    assert objects[0]["classification"] == "reply"
    assert objects[1]["classification"] == "unreadable" and "No such file" in objects[1]["error"]
    [line] = error_lines(result)
    assert str(missing) in line
    assert invoke(env, "parse", str(good), "--kind", "disposition", "--json").exit_code == 0


# send -------------------------------------------------------------------------------------


def _import_sample(env: dict[str, str]) -> None:
    for kind in ("reps", "leads"):
        result = invoke(env, "import", kind, str(SAMPLE / f"{kind}.csv"))
        assert result.exit_code == 0, result.output


def test_send_creates_the_outbox_where_the_data_dir_does_not_exist(env: dict[str, str], db: Engine) -> None:
    _import_sample(env)
    outbox = Path(env["FEEDBACK_DATA_DIR"]) / "outbox"
    assert not outbox.parent.exists() or not outbox.exists()
    result = invoke(env, "send", "--no-followups")
    assert result.exit_code == 0, result.output
    assert "send failed" not in result.output and "not sent" not in result.output
    with Session(db) as s:
        sent = len(s.exec(select(FeedbackRequest)).all())
    assert sent > 0 and len(mailbox.Maildir(str(outbox), create=False)) == sent


def test_send_to_an_outbox_that_cannot_exist_stops_before_sending(
    env: dict[str, str], db: Engine, tmp_path: Path
) -> None:
    _import_sample(env)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = invoke({**env, "FEEDBACK_OUTBOX_DIR": str(blocker / "outbox")}, "send")
    assert result.exit_code == 1
    [line] = error_lines(result)
    assert f"cannot create the outbox {blocker / 'outbox'}" in line and "FEEDBACK_OUTBOX_DIR" in line
    with Session(db) as s:
        assert s.exec(select(FeedbackRequest)).all() == []  # nothing half-sent


# the mechanism ----------------------------------------------------------------------------


def _toy_app() -> typer.Typer:
    toy = typer.Typer(cls=FeedbackGroup, callback=root_callback)

    @toy.command()
    def denied() -> None:
        raise PermissionError(13, "Permission denied", "/srv/feedback/report.html")

    @toy.command()
    def grouped() -> None:  # what a task group raises
        raise ExceptionGroup("task failed", [FileNotFoundError(2, "No such file", "/srv/in.csv")])

    @toy.command()
    def bug() -> None:
        raise RuntimeError("boom")

    return toy


def test_errors_escaping_a_command_become_one_line_and_bugs_keep_their_traceback_with_debug() -> None:
    toy = _toy_app()
    denied = runner.invoke(toy, ["denied"])
    assert denied.exit_code == 1
    assert error_lines(denied) == [
        "error: /srv/feedback/report.html: permission denied — check its permissions or choose another path"
    ]
    grouped = runner.invoke(toy, ["grouped"])
    assert grouped.exit_code == 1
    assert error_lines(grouped) == ["error: /srv/in.csv: no such file or folder — check the path"]
    bug = runner.invoke(toy, ["bug"])
    assert bug.exit_code == 1
    [line] = error_lines(bug)
    assert "unexpected RuntimeError: boom" in line and "--debug" in line and "test_cli_errors.py" in line
    debug = runner.invoke(toy, ["--debug", "bug"])
    assert isinstance(debug.exception, RuntimeError)  # the traceback is there for the developer
    debug = runner.invoke(toy, ["bug"], env={"FEEDBACK_DEBUG": "1"})
    assert isinstance(debug.exception, RuntimeError)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["report", "summary", "--since", "someday"], "cannot read the date 'someday'"),
        (["import", "leads", "no-such.csv"], "no-such.csv"),
        (["reps", "add", "not an email"], "is not an email address"),
        (
            ["parse", "x.eml", "--kind", "winloss", "--learned", "no-such.jsonl"],
            "no-such.jsonl: no such file",
        ),
        (["taxonomy", "show", "--kind", "bogus"], "unknown request kind 'bogus'"),
        (["review", "show", "999"], "no review item #999"),
    ],
)
def test_wrong_input_elsewhere_is_one_line(env: dict[str, str], args: list[str], expected: str) -> None:
    result = invoke(env, *args)
    assert result.exit_code != 0
    [line] = error_lines(result)
    assert expected in line


def test_an_unknown_format_or_port_is_a_usage_error(env: dict[str, str]) -> None:
    for args in (["status", "--format", "xls"], ["serve", "--port", "99999"]):
        result = invoke(env, *args)
        assert result.exit_code == 2 and "Traceback" not in result.output
    result = invoke({**env, "FEEDBACK_SMTP_PORT": "99999"}, "serve")
    assert result.exit_code == 2 and "smtp_port" in error_lines(result)[0]


# status -----------------------------------------------------------------------------------


def _status(env: dict[str, str]) -> dict[str, object]:
    result = invoke(env, "status", "--format", "json")
    assert result.exit_code == 0, result.output
    return {row["metric"]: row["value"] for row in json.loads(result.stdout)}


def test_status_counts_requests_by_state_with_expired_apart(env: dict[str, str], db: Engine) -> None:
    assert invoke(env, "db", "upgrade").exit_code == 0
    now = utcnow()
    states = [
        (RequestStatus.sent, now + timedelta(days=30)),
        (RequestStatus.sent, now - timedelta(days=1)),  # expired
        (RequestStatus.clarifying, now + timedelta(days=30)),
        (RequestStatus.clarifying, now - timedelta(days=1)),  # expired
        (RequestStatus.review, now - timedelta(days=1)),  # answered: a person looks, not expired
        (RequestStatus.escalated, now + timedelta(days=30)),
        (RequestStatus.escalated, now - timedelta(days=1)),  # expired
        (RequestStatus.answered, now - timedelta(days=1)),
    ]
    with Session(db) as s:
        rep = Rep(email="ann@brightline.example", name="Ann")
        s.add(rep)
        s.flush()
        for n, (status, expires) in enumerate(states):
            lead = Lead(crm_id=f"L{n}", rep_id=rep.id)
            s.add(lead)
            s.flush()
            s.add(FeedbackRequest(kind="disposition", lead_id=lead.id, rep_id=rep.id or 0, status=status,
                                  expires_at=expires, sent_at=now - timedelta(days=40)))  # fmt: skip
        s.flush()
        s.add(ReviewItem(type="response", request_id=s.exec(select(FeedbackRequest.id)).first()))
        for n, status in enumerate(["processed", "processed", "failed", "received"]):
            s.add(InboundMessage(dedup_key=f"k{n}", status=status, received_at=now - timedelta(minutes=5)))
        s.commit()
    rows = _status(env)
    assert rows["requests"] == len(states)
    assert rows["requests sent, waiting for an answer"] == 1
    assert rows["requests clarifying"] == 1
    assert rows["requests in review"] == 1
    assert rows["requests escalated"] == 1
    assert rows["requests expired"] == 3
    assert rows["requests answered"] == 1
    assert rows["review items open"] == 1
    # "received" is every message the ingest stored; the status `received` waits for a job
    assert rows["messages received"] == 4 and rows["messages processed"] == 2
    assert rows["messages failed"] == 1 and rows["messages waiting for a job"] == 1
    assert rows["oldest unprocessed"] != "none"
    assert rows["time zone"] == "UTC"


def test_status_sees_the_embedded_redis_of_its_data_dir(env: dict[str, str], tmp_path: Path) -> None:
    env = {k: v for k, v in env.items() if k != "FEEDBACK_REDIS_URL"}
    rows = _status(env)
    assert rows["queue"] == "embedded Redis not running (start `feedback serve`)"
    with EmbeddedRedis(Path(env["FEEDBACK_DATA_DIR"])):
        rows = _status(env)
        assert rows["queue"] == "embedded Redis running" and rows["queue depth"] == 0
    result = invoke({**env, "FEEDBACK_REDIS_URL": "redis://user:secret@127.0.0.1:1/0"}, "status")
    assert result.exit_code == 0 and "secret" not in result.stdout and "unreachable" in result.stdout


def test_an_empty_listing_says_so_in_the_terminal_and_stays_well_formed(env: dict[str, str]) -> None:
    """A bare table header reads like a broken command: the terminal gets a sentence, JSON an empty list."""
    table = invoke(env, "review", "list")
    assert table.exit_code == 0, table.output
    assert "Review queue: nothing waits for a person" in table.output and "--all" in table.output
    assert "┃" not in table.output  # no empty table frame
    as_json = invoke(env, "review", "list", "--format", "json")
    assert as_json.exit_code == 0 and json.loads(as_json.output) == []
    requests = invoke(env, "requests", "list")
    assert requests.exit_code == 0 and "┃" not in requests.output, requests.output
