"""Engine, sessions and migrations. One code path for SQLite and PostgreSQL.

SQLite runs in WAL with ``synchronous=FULL`` so every committed message is on disk before the
ingest answers 250; PostgreSQL keeps ``synchronous_commit=on``.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from feedback.runtime.errors import FeedbackError
from feedback.runtime.settings import Settings
from feedback.storage.dbtext import install as install_text_boundary


class MigrationError(FeedbackError):
    """A migration target that does not exist or cannot be reached from where the database is."""

    exit_code = 2


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine with the durability pragmas set on every connection and text made storable."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        install_text_boundary(engine)
        return engine
    if parsed.drivername in {"postgresql", "postgres"}:
        url = str(parsed.set(drivername="postgresql+psycopg"))
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"options": "-c synchronous_commit=on", "connect_timeout": 5},
    )
    install_text_boundary(engine)
    return engine


_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def write_lock(engine: Engine) -> AbstractContextManager[object]:
    """Serialise this process's writers on SQLite (a no-op on PostgreSQL).

    SQLite admits one writer; threads that collide fall into its busy handler, which sleeps in
    growing steps (up to 100 ms) and wrecks throughput. Queuing on a lock instead costs nothing.
    """
    if engine.dialect.name != "sqlite":
        return nullcontext()
    with _LOCKS_GUARD:
        lock = _WRITE_LOCKS.get(engine)
        if lock is None:
            lock = _WRITE_LOCKS[engine] = threading.Lock()
    return lock


def engine_for(settings: Settings) -> Engine:
    return make_engine(settings.resolved_database_url)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("feedback") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (idempotent)."""
    from alembic import command

    cfg = _alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def revisions() -> list[tuple[str, str]]:
    """Every migration, oldest first: (revision id, its one-line description)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config("sqlite://"))
    walk = list(script.walk_revisions())  # newest first
    return [(rev.revision, (rev.doc or "").strip().split("\n")[0]) for rev in reversed(walk)]


def downgrade_plan(engine: Engine, revision: str) -> list[str]:
    """The revisions a downgrade to ``revision`` undoes, newest first; refuses an unknown target.

    ``revision`` is an id, ``base`` (before the first migration) or ``-N`` (N steps back). The
    check runs before anything changes, so a typo never reaches Alembic's half-applied state.
    """
    ids = [rev for rev, _ in revisions()]
    current = current_revision(engine)
    position = ids.index(current) + 1 if current in ids else 0  # number applied
    valid = "base, " + ", ".join(ids) + " or -N (N steps back)"
    if revision == "base":
        target = 0
    elif revision.startswith("-") and revision[1:].isdigit():
        target = position - int(revision[1:])
        if target < 0:
            raise MigrationError(
                f"cannot go {revision[1:]} step(s) back from {current or 'an empty database'}",
                hint="`feedback db history` lists the revisions",
            )
    elif revision in ids:
        target = ids.index(revision) + 1
    else:
        raise MigrationError(
            f"no migration {revision!r}: the targets are {valid}",
            hint="`feedback db history` lists the revisions and `feedback db current` shows where it is",
        )
    if target > position:
        raise MigrationError(
            f"{revision} is newer than the database's revision {current or '(empty)'}: nothing to undo",
            hint="use `feedback db upgrade` to go forward",
        )
    return list(reversed(ids[target:position]))


def downgrade(engine: Engine, revision: str) -> None:
    """Roll the schema back to ``revision`` (checked first: see ``downgrade_plan``)."""
    from alembic import command
    from alembic.util import CommandError

    downgrade_plan(engine, revision)
    cfg = _alembic_config(engine.url.render_as_string(hide_password=False))
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)
    except CommandError as exc:
        raise MigrationError(str(exc), hint="`feedback db history` lists the revisions") from None


class SchemaOutOfDate(FeedbackError):
    """The database's schema is not the one this version of feedback was written for."""

    exit_code = 1


def head_revision() -> str:
    """The newest migration this version ships."""
    return revisions()[-1][0]


def check_schema(engine: Engine, *, upgrade_if_behind: bool = False) -> None:
    """Make sure the schema is the one this code expects, migrating only where allowed.

    An empty database is created at head by any command: there is nothing in it to migrate.
    A database behind head is migrated only by the long-running services and the demo
    (``upgrade_if_behind``); every other command refuses, so an upgrade is a deliberate act
    (`feedback db upgrade`, after a backup) and never the side effect of reading a report.
    A database ahead of the code (an older feedback on a newer schema) is always refused.
    """
    current = current_revision(engine)
    known = [rev for rev, _ in revisions()]
    head = known[-1]
    if current == head:
        return
    if current is None and not _has_tables(engine):
        upgrade(engine)
        return
    if current is not None and current not in known:
        raise SchemaOutOfDate(
            f"the database's schema ({current}) is newer than this version of feedback (up to {head})",
            hint="run the version of feedback that upgraded it, or upgrade this installation",
        )
    if upgrade_if_behind:
        upgrade(engine)
        return
    raise SchemaOutOfDate(
        f"the database's schema is at {current or 'no revision'}, this version needs {head}",
        hint="back the database up, then run `feedback db upgrade`",
    )


def _has_tables(engine: Engine) -> bool:
    from sqlalchemy import inspect

    return bool(inspect(engine).get_table_names())


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
