"""The report rollup's upkeep: merging the delta rows its triggers add (migration 0027).

Every write to the facts adds a row per group it touches to each rollup (``report_rollup``,
``report_rollup_all``, ``report_reason_rollup``, ``report_reason_rollup_all``, 0030's
``report_sla_rollup_rep`` and ``report_sla_rollup_cs``, and 0031's ``report_hours_rollup_rep``
and ``report_hours_rollup_cs``: +1 for a fact inserted, -1 for one deleted), so the tables
grow with the writes while the groups they sum stay a few per month. Reports sum rows per
group, so the figures are exact either way; merging keeps the tables small enough to be worth reading.
:func:`compact` rewrites a rollup as one row per group (dropping the groups that sum to
nothing) once its unmerged rows reach :data:`MIN_DELTAS` and a tenth of the merged ones; the
follow-up round calls it every 5 minutes. This module is the only one that writes the rollups
besides the triggers.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from feedback.reports.sql import ROLLUPS
from feedback.storage.db import write_lock

MIN_DELTAS = 1000
"""Below this many unmerged rows a rollup is left as it is: summing them costs nothing."""

_TABLES = {t.name: t for t in ROLLUPS}


def _parts(table: str) -> tuple[str, str, str, str]:
    """Column list, key list, keys with summed measures, and the test of a group not empty."""
    columns = _TABLES[table].columns
    keys = list(_TABLES[table].info["keys"])
    measures = [c.name for c in columns if c.name not in keys and c.name != "delta"]
    summed = ", ".join([*keys, *[f"sum({m})" for m in measures]])
    return ", ".join([*keys, *measures]), ", ".join(keys), summed, f"sum({measures[0]}) <> 0"


def stored(conn: Connection, table: str) -> list[tuple[object, ...]]:
    """The rollup's groups as readers see them: keys and sums, the empty groups left out."""
    _, keys, summed, nonempty = _parts(table)
    query = f"SELECT {summed} FROM {table} GROUP BY {keys} HAVING {nonempty}"
    return sorted((tuple(r) for r in conn.execute(text(query))), key=repr)


def compact(engine: Engine, *, force: bool = False) -> int:
    """Merge each rollup's rows into one per group when enough are unmerged; the rows merged."""
    merged = 0
    for table in _TABLES:
        with write_lock(engine), engine.begin() as conn:
            deltas = conn.execute(text(f"SELECT count(*) FROM {table} WHERE delta = 1")).scalar_one()
            if not deltas or (not force and deltas < MIN_DELTAS):
                continue
            base = conn.execute(text(f"SELECT count(*) FROM {table} WHERE delta = 0")).scalar_one()
            if not force and deltas * 10 < base:
                continue
            merged += _merge(conn, table)
    return merged


def _merge(conn: Connection, table: str) -> int:
    cols, keys, summed, nonempty = _parts(table)
    if conn.dialect.name == "postgresql":
        merged = f"SELECT {summed}, 0 FROM gone GROUP BY {keys} HAVING {nonempty}"
        # one statement: rows other transactions add meanwhile are neither deleted nor merged
        result = conn.execute(
            text(
                f"WITH gone AS (DELETE FROM {table} RETURNING *) INSERT INTO {table} ({cols}, delta) {merged}"
            )
        )
        return result.rowcount
    # SQLite: this transaction is the only writer until it commits
    result = conn.execute(
        text(
            f"INSERT INTO {table} ({cols}, delta) "
            f"SELECT {summed}, 2 FROM {table} GROUP BY {keys} HAVING {nonempty}"
        )
    )
    conn.execute(text(f"DELETE FROM {table} WHERE delta <> 2"))
    conn.execute(text(f"UPDATE {table} SET delta = 0"))
    return result.rowcount
