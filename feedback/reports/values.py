"""The values report filters may take that live in the database, and filters checked against them.

Campaigns, sources and segments come from the leads and deals (a campaign with no request yet
is still a real campaign: an empty report is then the right answer), teams and reps from the
reps, unlisted competitors from the answers. :func:`resolve_report_filters` reads only the
fields a report was given, and checks them with the pure resolver of
:mod:`feedback.reports.filters`.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import text

from feedback.reports.filters import (
    OPTION_OF,
    Filters,
    Vocabulary,
    competitor_vocabulary,
    resolve_filters,
    taxonomy_vocabularies,
)
from feedback.reports.sql import NONE_LABEL, Db, connect
from feedback.runtime.settings import Settings

# field -> the indexed (table, column) pairs holding its values
_INDEXED = {
    "campaigns": [("lead", "campaign"), ("deal", "campaign")],
    "sources": [("lead", "source"), ("deal", "source")],
    "teams": [("rep", "team")],
    "competitors": [("response", "competitor")],
}
_IN_DATABASE = ("campaigns", "sources", "reps", "teams", "segments", "competitors")
_SEGMENTS = "SELECT segment FROM lead WHERE segment IS NOT NULL UNION SELECT segment FROM deal"
_REPS = "SELECT email, name, crm_id FROM rep"


def _distinct(table: str, column: str) -> str:
    """Distinct values by walking the column's index, one probe per value (a "loose index scan").

    A plain DISTINCT reads every row: 0.1 s or more at a million answers, paid by every report
    run with a filter. Both databases plan each ``min(column) WHERE column > previous`` as one
    index lookup, so a few hundred campaigns cost a few hundred probes.
    """
    return (
        f"WITH RECURSIVE v(x) AS (SELECT min({column}) FROM {table} UNION ALL "
        f"SELECT (SELECT min({column}) FROM {table} WHERE {column} > v.x) FROM v WHERE v.x IS NOT NULL) "
        "SELECT x FROM v WHERE x IS NOT NULL"
    )


def known_values(db: Db, fields: Collection[str]) -> dict[str, list[str]]:
    """The stored values of each of ``fields`` (``Filters`` field names), sorted, without repeats.

    Reps are the exception: their emails, names and CRM ids, all three accepted by ``--rep``.
    Campaigns, sources, segments and teams include ``(none)``, the label reports print for none.
    """
    out: dict[str, list[str]] = {}
    with connect(db) as conn:
        for field in fields:
            found: set[str] = set()
            if field in _INDEXED:
                for table, column in _INDEXED[field]:
                    found.update(conn.execute(text(_distinct(table, column))).scalars())
            elif field == "segments":
                found.update(v for v in conn.execute(text(_SEGMENTS)).scalars() if v is not None)
            elif field == "reps":
                for row in conn.execute(text(_REPS)):
                    found.update(v for v in row if v)
            else:
                continue
            if field in ("campaigns", "sources", "segments", "teams"):
                found.add(NONE_LABEL)
            out[field] = sorted(found, key=str.casefold)
    return out


def resolve_report_filters(db: Db, filters: Filters, settings: Settings) -> tuple[Filters, tuple[str, ...]]:
    """``filters`` with codes, labels, aliases and any case turned into the stored values.

    Raises :class:`~feedback.reports.filters.FilterError` for a value that matches nothing, with
    the valid (or closest) values. The notes say which values were read through a typo.
    """
    wanted = [name for name in _IN_DATABASE if getattr(filters, name)]
    stored = known_values(db, wanted) if wanted else {}
    vocabularies: dict[str, Vocabulary] = dict(taxonomy_vocabularies(settings.taxonomy))
    vocabularies["competitors"] = competitor_vocabulary(settings.competitors, stored.get("competitors", ()))
    for name in ("campaigns", "sources", "reps", "teams", "segments"):
        if name in stored:
            vocabularies[name] = Vocabulary.build(OPTION_OF[name], [(v, ()) for v in stored[name]])
    return resolve_filters(filters, vocabularies)
