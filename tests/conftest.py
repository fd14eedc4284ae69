"""Shared fixtures: settings on a temp data dir, a migrated database, a Redis URL.

Backends: embedded by default (SQLite file + a private embedded Redis); when
FEEDBACK_TEST_DATABASE_URL / FEEDBACK_TEST_REDIS_URL are set (CI's second run), against those:
each test database gets its own schema-free database created and dropped here.
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url

from feedback.runtime.redis_embedded import EmbeddedRedis
from feedback.runtime.settings import Settings, load_settings
from feedback.storage import rollup_upkeep
from feedback.storage.db import make_engine, upgrade

TEST_DB_URL = os.environ.get("FEEDBACK_TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("FEEDBACK_TEST_REDIS_URL")


def _facts_as_recomputed(url: str) -> None:
    """After a test, whatever paths it ran (worker batches, review, erase, purge, imports,
    handover, follow-ups, direct SQL), the stored report facts equal a from-scratch recompute
    (their views), and no transaction left the facts deferred (feedback/storage/fact_upkeep.py)."""
    if url.startswith("sqlite") and not Path(url.removeprefix("sqlite:///")).exists():
        return
    eng = make_engine(url)
    try:
        names = set(inspect(eng).get_table_names()) | set(inspect(eng).get_view_names())
        if not {"report_fact", "report_frame_v", "report_reason_fact", "report_reason_frame_v"} <= names:
            return  # the test left the database before the facts (a downgrade)
        with eng.connect() as conn:
            for table, view in (
                ("report_fact", "report_frame_v"),
                ("report_reason_fact", "report_reason_frame_v"),
            ):
                cols = ", ".join(c["name"] for c in inspect(conn).get_columns(table))
                stored = sorted(
                    (tuple(r) for r in conn.execute(text(f"SELECT {cols} FROM {table}"))), key=repr
                )
                fresh = sorted((tuple(r) for r in conn.execute(text(f"SELECT {cols} FROM {view}"))), key=repr)
                assert stored == fresh, f"{table} differs from a recompute after this test"
            for table, migration in (
                ("report_rollup", "0027_report_rollup"),
                ("report_sla_rollup_rep", "0030_sla_rollup"),
                ("report_hours_rollup_rep", "0031_hours_buckets"),
            ):
                if table in names:
                    _rollups_as_recomputed(conn, migration)
            if "report_fact_deferral" in names:
                assert conn.execute(text("SELECT count(*) FROM report_fact_deferral")).scalar_one() == 0
    finally:
        eng.dispose()


def _rollups_as_recomputed(conn: Connection, name: str) -> None:
    """The report rollups of migration ``name`` (0027, 0030, 0031), summed per group as reports read
    them, equal the facts grouped from scratch (the migration's backfill query), merged or not."""
    path = Path(__file__).parents[1] / f"feedback/migrations/versions/{name}.py"
    spec = importlib.util.spec_from_file_location("_rollup_migration", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    def plain(row: Any) -> tuple[Any, ...]:
        return tuple(int(v) if isinstance(v, Decimal) else v for v in row)

    for table, (source, *_) in migration.ROLLUPS.items():
        fresh_sql = migration.grouped_select(conn.dialect.name, table, "x", delta=0).format(src=source)
        fresh = sorted((plain(r)[:-1] for r in conn.execute(text(fresh_sql))), key=repr)
        stored = [plain(r) for r in rollup_upkeep.stored(conn, table)]
        assert sorted(stored, key=repr) == fresh, f"{table} differs from the facts grouped after this test"


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database dropped afterwards.
    Either way the test's report facts are checked against a recompute at the end."""
    if not TEST_DB_URL:
        url = f"sqlite:///{tmp_path / 'feedback.db'}"
        yield url
        _facts_as_recomputed(url)
        return
    admin_url = make_url(TEST_DB_URL).set(drivername="postgresql+psycopg")
    name = f"fb_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = admin_url.set(database=name).render_as_string(hide_password=False)
        yield url
        _facts_as_recomputed(url)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The shared test Redis (flushed per test by `clean_redis`), or a private embedded one."""
    if TEST_REDIS_URL:
        yield TEST_REDIS_URL
        return
    with EmbeddedRedis(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


@pytest.fixture
async def clean_redis(redis_url: str) -> str:
    from feedback.runtime.queue import connect

    pool = await connect(redis_url)
    await pool.flushdb()
    await pool.aclose()
    return redis_url


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return load_settings(
        {},
        data_dir=tmp_path / "var",
        database_url=database_url,
        secret="test-secret",
        reply_domain="feedback.example.test",
        smtp_port=0,
        job_timeout=10,
        poll_delay=0.01,
        # wall-clock follow-ups unless a test brings its own calendar (tests/test_followup_calendar.py)
        business_time=False,
        # the tests assert the rules' behaviour on given replies; the trained model beside them is
        # tested on its own (tests/test_classify_model.py turns it on)
        classifier_model=False,
        reminder_after_hours=48,
        escalate_after_hours=120,
        competitors=[
            {"name": "Contoso Suite", "aliases": ["contoso"]},
            {"name": "Fabrikam Analytics", "aliases": ["fabrikam", "fab"]},
        ],
    )
