"""A stored message's raw bytes: the one module that writes, reads and drops them.

The bytes live in ``inbound_raw`` (one row per message, none once purged or erased), apart from
``inbound_message``: SQLite rewrites a whole row to update any field of it, so while the bytes
sat in the message's row every attempt counted and every outcome stored copied them twice in
the worker (48 MiB for a 24 MiB message, measured). Now those updates never touch them.

The parser reads no more than its first ``MAX_BYTES`` (4 MiB) of a message of up to 25 MiB, so
the worker reads no more either. A plain ``SELECT raw`` costs twice the whole message in the
worker on SQLite (the library assembles the blob, then Python copies it: 48 MiB for 24 MiB,
measured), and a ``substr`` there still assembles the whole blob first (32 MiB); SQLite's
incremental blob I/O reads only the pages asked for (4 MiB). PostgreSQL cuts the value on the
server (``substr``) and sends it in binary pieces (as text, bytea travels hex-encoded: 24 MiB in
the worker for 4 MiB read; in binary at once, 12 MiB).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sqlite3
from collections.abc import Callable, Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from feedback.storage.models import InboundRaw

_R = InboundRaw.__table__  # type: ignore[attr-defined]
PG_PIECE = 256 * 1024


def store(conn: Connection, items: Sequence[tuple[int, bytes]]) -> None:
    """Write new messages' bytes, ``(message id, bytes)``, in the caller's open transaction.

    The ingest calls it in the transaction that inserts the messages' rows, so the commit before
    a 250 holds both. Plain driver SQL, one ``executemany`` (psycopg pipelines it: one round trip
    for the batch).
    """
    if not items:
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(f"INSERT INTO {_R.name} (message_id, raw) VALUES ({mark}, {mark})", list(items))


def read_many(conn: Connection, ids: Sequence[int]) -> dict[int, bytes]:
    """The whole bytes of messages ``ids`` (small ones: the batch reads them together); a purged
    message is missing from the result."""
    if not ids:
        return {}
    query = select(_R.c.message_id, _R.c.raw).where(_R.c.message_id.in_(ids))
    return {int(mid): raw for mid, raw in conn.execute(query)}


def read(conn: Connection, message_id: int) -> bytes | None:
    """The whole bytes of message ``message_id``; None when purged (or no such message)."""
    return read_many(conn, [message_id]).get(message_id)


def read_start(conn: Connection, message_id: int, limit: int) -> bytes | bytearray | None:
    """The first ``limit`` bytes of message ``message_id``'s raw bytes; None when purged.

    On PostgreSQL they come in ``PG_PIECE`` pieces into one buffer of their size (the parser
    reads a bytearray as it is): one read of 4 MiB costs 12 MiB in the worker (libpq's buffer
    and result, then the bytes), pieces cost the buffer and one piece.
    """
    driver = conn.connection.driver_connection
    if isinstance(driver, sqlite3.Connection):
        try:  # message_id is the table's rowid (INTEGER PRIMARY KEY)
            with driver.blobopen(_R.name, "raw", message_id, readonly=True) as blob:
                return blob.read(limit)
        except sqlite3.OperationalError:  # no row: purged (meanwhile), or no such message
            return None
    assert driver is not None
    with driver.cursor(binary=True) as cursor:  # psycopg 3
        cursor.execute(f"SELECT octet_length(raw) FROM {_R.name} WHERE message_id = %s", (message_id,))
        row = cursor.fetchone()
        if row is None or row[0] is None:
            return None
        out = bytearray(min(int(row[0]), limit))
        view = memoryview(out)
        for start in range(0, len(out), PG_PIECE):
            n = min(PG_PIECE, len(out) - start)
            query = f"SELECT substr(raw, %s, %s) FROM {_R.name} WHERE message_id = %s"
            cursor.execute(query, (start + 1, n, message_id))
            row = cursor.fetchone()
            if row is None or row[0] is None or len(row[0]) != n:
                return None  # purged meanwhile
            view[start : start + n] = row[0]
        view.release()
    return out


def count_held(conn: Connection, ids: Select[tuple[int]] | Sequence[int]) -> int:
    """How many of the messages ``ids`` (a list or a ``SELECT`` of ids) still hold their bytes."""
    query = select(func.count()).select_from(_R).where(_R.c.message_id.in_(ids))
    return int(conn.execute(query).scalar_one())


def drop(conn: Connection, ids: Select[tuple[int]] | Sequence[int]) -> int:
    """Delete the bytes of messages ``ids`` (a list or a ``SELECT`` of ids): a retention purge or
    an erase. The messages' rows, sizes and what was read from them stay. Returns how many
    messages lost their bytes."""
    return int(conn.execute(delete(_R).where(_R.c.message_id.in_(ids))).rowcount)


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError, TypeError):  # not glibc
        return None
    return trim


_TRIM = _malloc_trim()


def give_back() -> None:
    """Return the heap's free memory to the system (glibc ``malloc_trim``; elsewhere nothing).

    Called around a large message's steps, once its bytes are dropped: glibc keeps freed heap
    memory resident, so what reading and parsing one message left would otherwise count in the
    worker's size until reused. (Before migration 0025 it also kept SQLite's two copies of the
    whole row, made by every update of a message, from adding to the peak.)
    """
    if _TRIM is not None:
        _TRIM(0)
