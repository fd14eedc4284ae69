"""The one boundary where text from mail is made storable, for every statement on either database.

Mail carries text no database column should hold: U+0000 (a header with a NUL byte, UTF-16 text
read as windows-1252), which PostgreSQL refuses outright ("text fields cannot contain NUL"), and
lone surrogates (undecodable 8-bit header bytes kept as ``surrogateescape``), which no driver can
encode as UTF-8. Either used to fail the whole statement: the worker took it for a database outage
and retried forever, and the ingest answered 451 to every message committed in the same batch.

Cleaning each writer's fields would miss the next writer, so ``install`` hooks the engine: every
string bound to any statement (ORM, Core or driver SQL) passes ``clean_text`` first, on SQLite as
on PostgreSQL, so both store the same text. The only path that bypasses the engine (the ingest's
pipelined psycopg ``executemany`` in ``store.py``) calls ``clean_text`` itself.
Each offending character becomes U+FFFD, so a reader sees that something was there; a value with
none is returned as is (one regex scan, no copy).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def clean_text(value: str) -> str:
    """``value`` with NULs and lone surrogates replaced by U+FFFD (the same object when clean)."""
    if _UNSTORABLE.search(value) is None:
        return value
    return _UNSTORABLE.sub(REPLACEMENT, value)


def _clean_one(params: Any) -> Any:
    if isinstance(params, Mapping):
        if any(isinstance(v, str) and _UNSTORABLE.search(v) for v in params.values()):
            return {k: clean_text(v) if isinstance(v, str) else v for k, v in params.items()}
        return params
    if isinstance(params, tuple | list) and any(isinstance(v, str) and _UNSTORABLE.search(v) for v in params):
        return type(params)(clean_text(v) if isinstance(v, str) else v for v in params)
    return params


def clean_params(parameters: Any, executemany: bool) -> Any:
    """DBAPI parameters (one set, or a sequence of sets for ``executemany``) made storable."""
    if parameters is None:
        return parameters
    if executemany and isinstance(parameters, Sequence):
        return [_clean_one(p) for p in parameters]
    return _clean_one(parameters)


def install(engine: Engine) -> None:
    """Clean every bound string of every statement ``engine`` executes."""

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _clean(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> tuple[str, Any]:
        return statement, clean_params(parameters, executemany)
