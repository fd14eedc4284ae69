"""Medians of hours to answer by rank, the skip started at the whole hour that holds the middle.

A median by rank (``reports.rollup.medians``, ``reports.sla.medians_by_rank``) is the mean of
the values ranked (n+1) div 2 and (n+2) div 2, as ``sql.median_by`` defines it. An index ordered
by hours gives the k-th value by skipping k-1 entries, but a B-tree skips by reading: half of a
group's entries for its median. Migration 0031 counts each group's answers per whole hour (``hb``,
the floor of ``hours``), so the k-th value is the (k - answers below hb)-th from ``hours >= hb``:
the skip starts at that hour in the index and reads only its entries.

:func:`middle` finds the hours and offsets (pure); :func:`median_at` writes the SQL;
:func:`medians` reads the buckets and every group's median in a few statements (on PostgreSQL
one, whatever the number of groups: their positions passed as arrays).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import BigInteger, Float, String, Table, bindparam, cast, func, literal, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.selectable import Select

from feedback.reports.sql import FACT, HOUR_LIMIT

MEDIAN_CHUNK = 100
"""Medians per statement (SQLite allows 500 terms in one UNION ALL)."""

Position = tuple[int, int, int]
"""A run of values by rank: (whole hour ``hb``, entries to skip from ``hours >= hb``, values to take)."""


def middle(buckets: Sequence[tuple[int, int]]) -> list[Position]:
    """Where the middle one or two values of a group lie, from its (hour, count) pairs in
    ascending hour order (counts above zero): one run when both middle ranks fall in one hour,
    else one per rank. Empty for a group of no values."""
    n = sum(count for _, count in buckets)
    if n <= 0:
        return []
    ranks = sorted({(n + 1) // 2, (n + 2) // 2})
    found: list[Position] = []
    below = 0
    for hour, count in buckets:
        for rank in ranks:
            if below < rank <= below + count:
                if found and found[-1][0] == hour:
                    found[-1] = (hour, found[-1][1], found[-1][2] + 1)
                else:
                    found.append((hour, rank - below - 1, 1))
        below += count
    return found


def two_runs(buckets: Sequence[tuple[int, int]]) -> list[Position]:
    """:func:`middle`'s runs padded to exactly two with empty ones (take 0), so every group fills
    one row of :func:`_medians_lateral`'s arrays whatever its counts (none, or a sum that is not
    positive): a shorter row would shift every later group's runs."""
    return [*middle(buckets), (0, 0, 0), (0, 0, 0)][:2]


def median_at(conds: Sequence[ColumnElement[bool]], positions: Sequence[Position]) -> ColumnElement[Any]:
    """The mean of the facts' hours at ``positions`` (from :func:`middle`) among the facts
    passing ``conds``, each run read from its hour on in the index the conditions lead to (the
    lowest hour, -:data:`sql.HOUR_LIMIT`, holds every value below it too: read from the start)."""
    if not positions:
        return cast(literal(None), Float())
    runs = [
        select(FACT.c.hours.label("h"))
        .where(*conds, *([FACT.c.hours >= literal(hour, BigInteger())] if hour > -HOUR_LIMIT else []))
        .order_by(FACT.c.hours)
        .limit(take)
        .offset(skip)
        for hour, skip, take in positions
    ]
    values = (runs[0] if len(runs) == 1 else union_all(*[r.subquery().select() for r in runs])).subquery("m")
    return cast(select(func.avg(values.c.h)).scalar_subquery(), Float())


def buckets(
    conn: Connection, table: Table, keys: Sequence[str], where: Sequence[ColumnElement[bool]] = ()
) -> dict[tuple[Any, ...], list[tuple[int, int]]]:
    """Per value of ``keys``, its (hour, count) pairs from a 0031 rollup (``table``), rows
    passing ``where`` summed over every other key, empty hours left out, in hour order."""
    kcols = [table.c[k] for k in keys]
    n = func.sum(table.c.n)
    rows = conn.execute(
        select(*kcols, table.c.hb, cast(n, BigInteger()))
        .where(*where)
        .group_by(*kcols, table.c.hb)
        .having(n != 0)
    ).all()
    out: dict[tuple[Any, ...], list[tuple[int, int]]] = {}
    for row in rows:
        out.setdefault(tuple(row[: len(keys)]), []).append((int(row[-2]), int(row[-1])))
    for hours in out.values():
        hours.sort()
    return out


def medians(
    conn: Connection,
    found: dict[tuple[Any, ...], list[tuple[int, int]]],
    keys: Sequence[str],
    conds: Callable[[tuple[Any, ...]], list[ColumnElement[bool]]],
) -> dict[tuple[Any, ...], float | None]:
    """Each group's median of hours (its buckets in ``found``, from :func:`buckets`), its facts
    those passing ``conds(values)``: on PostgreSQL the groups without a null key in one
    statement of a fixed shape (:func:`_medians_lateral`), the rest :data:`MEDIAN_CHUNK` groups
    per statement. ``conds`` is given each group's values, or the columns of a row holding them."""
    groups = list(found.items())
    out: dict[tuple[Any, ...], float | None] = {}
    if conn.dialect.name == "postgresql" and keys:
        plain = [(values, hours) for values, hours in groups if None not in values]
        if plain:
            out.update(_medians_lateral(conn, plain, keys, conds))
            groups = [(values, hours) for values, hours in groups if None in values]
    for start in range(0, len(groups), MEDIAN_CHUNK):
        chunk: list[Select[Any]] = []
        for values, hours in groups[start : start + MEDIAN_CHUNK]:
            cols: list[ColumnElement[Any]] = [
                literal(v, String()).label(k) for k, v in zip(keys, values, strict=True)
            ]
            chunk.append(select(*cols, median_at(conds(values), middle(hours)).label("median")))
        statement = chunk[0] if len(chunk) == 1 else union_all(*chunk)
        for row in conn.execute(statement):
            out[tuple(row[: len(keys)])] = row[-1]
    return out


def _medians_lateral(
    conn: Connection,
    groups: Sequence[tuple[tuple[Any, ...], list[tuple[int, int]]]],
    keys: Sequence[str],
    conds: Callable[[tuple[Any, ...]], list[ColumnElement[bool]]],
) -> dict[tuple[Any, ...], float | None]:
    """:func:`medians` of groups with no null key on PostgreSQL, in one statement: each group's
    values and its two runs (hour, skip, take; the second run empty, ``LIMIT 0``, when both
    middle values share an hour; the lowest hour read from -infinity) are arrays, unnested into
    rows, and each row's median is read by a subquery of the rows' columns. Writing a subquery
    per group (:data:`MEDIAN_CHUNK` to a statement) cost SQLAlchemy about 1 ms of Python each
    to build and compile: 0.23 s of the all-time summary's 0.55 at a million answers."""
    columns: dict[str, list[Any]] = {f"k{i}": [] for i in range(len(keys))}
    runs: dict[str, list[Any]] = {name: [] for name in ("hb1", "skip1", "take1", "hb2", "skip2", "take2")}
    for values, hours in groups:
        for i, value in enumerate(values):
            columns[f"k{i}"].append(value)
        for n, (hour, skip, take) in enumerate(two_runs(hours), start=1):
            runs[f"hb{n}"].append(float(hour) if hour > -HOUR_LIMIT else float("-inf"))
            runs[f"skip{n}"].append(skip)
            runs[f"take{n}"].append(take)
    arrays = [
        *(bindparam(name, value, type_=ARRAY(String())) for name, value in columns.items()),
        *(
            bindparam(name, value, type_=ARRAY(Float() if name.startswith("hb") else BigInteger()))
            for name, value in runs.items()
        ),
    ]
    v = func.unnest(*arrays).table_valued(*columns, *runs).render_derived(name="v", with_types=False)
    mine = tuple(v.c[name] for name in columns)

    def run(n: int) -> Select[Any]:
        return (
            select(FACT.c.hours.label("h"))
            .where(*conds(mine), FACT.c.hours >= v.c[f"hb{n}"])
            .order_by(FACT.c.hours)
            .limit(v.c[f"take{n}"])
            .offset(v.c[f"skip{n}"])
            .correlate(v)  # the row's values, two subqueries down
        )

    both = union_all(run(1).subquery().select(), run(2).subquery().select()).subquery("m")
    median = cast(select(func.avg(both.c.h)).scalar_subquery(), Float())
    rows = conn.execute(select(*mine, median)).all()
    return {tuple(row[:-1]): row[-1] for row in rows}
