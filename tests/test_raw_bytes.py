"""A message's raw bytes live in ``inbound_raw`` (owned by ``storage/raw_bytes``), apart from its row:
stored in the message's commit, read back whole or by their start, gone after a retention purge
(what ``raw IS NULL`` meant before 0025), and moved by migration 0025 both ways with their data.
Real SQLite or PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from feedback.ingress.store import Incoming, store_batch
from feedback.runtime.settings import Settings
from feedback.services.processing import process_batch
from feedback.services.retention import purge_raw
from feedback.services.review import describe_item
from feedback.storage import raw_bytes
from feedback.storage.db import downgrade, make_engine, upgrade
from feedback.storage.models import InboundMessage, MessageStatus, ReviewItem, utcnow


def _mail(n: int) -> bytes:
    return (
        f"From: Dana <dana@brightline.example>\r\nTo: feedback@feedback.example.test\r\n"
        f"Subject: Re: lead {n}\r\nMessage-ID: <{n}@brightline.example>\r\n\r\nLost on price, sorry.\r\n"
    ).encode()


def _incoming(raw: bytes, days_ago: int = 0) -> Incoming:
    return Incoming(
        raw=raw,
        mail_from="dana@brightline.example",
        rcpt_to=("feedback@feedback.example.test",),
        peer=None,
        received_at=utcnow() - timedelta(days=days_ago),
    )


def test_bytes_are_stored_with_their_message_and_read_back(engine: Engine) -> None:
    raw = _mail(1) + bytes(range(256)) * 64
    first, again, other = store_batch(engine, [_incoming(raw), _incoming(raw), _incoming(_mail(2))])
    assert again.id == first.id and again.duplicate  # a redelivery stores no second copy
    with engine.connect() as conn:
        assert raw_bytes.read(conn, first.id) == raw
        assert raw_bytes.read_start(conn, first.id, 10) == raw[:10]
        assert raw_bytes.read_many(conn, [first.id, other.id, other.id + 99]) == {
            first.id: raw,
            other.id: _mail(2),
        }
        assert raw_bytes.count_held(conn, [first.id, other.id]) == 2
    # no bytes in the message's row: updating its state never copies them
    assert "raw" not in {c["name"] for c in inspect(engine).get_columns("inbound_message")}
    with Session(engine) as s:
        assert s.get(InboundMessage, first.id).size == len(raw)  # type: ignore[union-attr]


def test_a_purge_drops_old_read_bytes_and_keeps_the_rest(engine: Engine, settings: Settings) -> None:
    old_read, old_unread, new_read = (
        s.id
        for s in store_batch(engine, [_incoming(_mail(1), 90), _incoming(_mail(2), 90), _incoming(_mail(3))])
    )
    out = process_batch(engine, settings, [old_read, new_read])
    assert out[old_read].status == out[new_read].status == MessageStatus.unmatched  # read: no token
    now = utcnow()
    assert purge_raw(engine, older_than_days=30, now=now, apply=False) == 1  # counted, not dropped
    with engine.connect() as conn:
        assert raw_bytes.count_held(conn, [old_read, old_unread, new_read]) == 3
    assert purge_raw(engine, older_than_days=30, now=now, apply=True) == 1
    assert purge_raw(engine, older_than_days=30, now=now, apply=True) == 0
    with engine.connect() as conn:  # the message waiting for the worker keeps its bytes whatever its age
        assert set(raw_bytes.read_many(conn, [old_read, old_unread, new_read])) == {old_unread, new_read}
    with Session(engine) as s:
        message = s.get(InboundMessage, old_read)
        assert message is not None and message.size == len(_mail(1))  # the row and its metadata stay
        item = s.exec(select(ReviewItem).where(ReviewItem.inbound_message_id == old_read)).one()
        assert describe_item(s, item, full=True)["reply"] == "(the raw message was purged)"
        assert describe_item(s, item)["from"] == "dana@brightline.example"  # read before the purge


def test_the_worker_fails_a_message_whose_bytes_are_gone(engine: Engine, settings: Settings) -> None:
    (stored,) = store_batch(engine, [_incoming(_mail(1))])
    with engine.begin() as conn:  # purged (or erased) before the worker got to it
        assert raw_bytes.drop(conn, [stored.id]) == 1
    assert process_batch(engine, settings, [stored.id])[stored.id].status == MessageStatus.failed
    with Session(engine) as s:
        message = s.get(InboundMessage, stored.id)
        assert message is not None and "purged" in (message.error or "")


def test_migration_0025_moves_the_bytes_out_and_back(database_url: str) -> None:
    engine = make_engine(database_url)
    big = bytes(range(256)) * 8192  # 2 MiB: past any inline row size
    rows = {"a": b"one", "b": None, "c": big}  # "b" purged before 0025
    insert = text(
        "INSERT INTO inbound_message (dedup_key, mail_from, rcpt_to, size, raw, received_at, status, "
        "attempts, deliveries) VALUES (:k, '', '', :n, :raw, '2026-01-01 09:00:00', 'processed', 1, 1)"
    )
    try:
        upgrade(engine, "0023_sla_facts")
        with engine.begin() as conn:
            for key, raw in rows.items():
                conn.execute(insert, {"k": key, "n": len(raw or b""), "raw": raw})
            ids = dict(conn.execute(text("SELECT dedup_key, id FROM inbound_message")).all())
        upgrade(engine)
        assert "raw" not in {c["name"] for c in inspect(engine).get_columns("inbound_message")}
        with engine.connect() as conn:
            held = raw_bytes.read_many(conn, list(ids.values()))
            assert held == {ids["a"]: b"one", ids["c"]: big}
            assert raw_bytes.read_start(conn, ids["c"], 1000) == big[:1000]  # SQLite: by rowid
        downgrade(engine, "0023_sla_facts")
        assert "inbound_raw" not in inspect(engine).get_table_names()
        with engine.connect() as conn:
            back = dict(conn.execute(text("SELECT dedup_key, raw FROM inbound_message")).all())
        assert {k: bytes(v) if v is not None else None for k, v in back.items()} == rows
        upgrade(engine)
        with engine.connect() as conn:
            assert raw_bytes.read_many(conn, list(ids.values())) == held
    finally:
        engine.dispose()
