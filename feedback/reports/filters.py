"""Report filters and the date words marketers type: ``2026-01-31``, ``30d``, ``12w``, ``6m``, ``today``.

Dates are read in the configured time zone (a day is the marketer's day, not UTC's) and turned
into naive UTC bounds, the way times are stored. ``until`` is inclusive of the day given.

Filter values are resolved here too, without I/O: a :class:`Vocabulary` maps every accepted
spelling (a code, the label reports print, a competitor alias, any case) to the stored values it
stands for; a value that matches nothing is a :class:`FilterError` listing the valid (or the
closest) values, never a silently empty report. The values that live in the database are
fetched by :mod:`feedback.reports.values`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from feedback.core.competitor_list import Competitor
from feedback.core.taxonomy import Taxonomy
from feedback.core.vocabulary import DATE_BY as DATE_BY

DIMENSIONS = ("campaign", "source", "segment", "rep", "team", "week", "month")
"""What ``--by`` may cross a report with."""

VARIANT = "variant"
"""``--by variant``: the responsiveness report per template version (A/B variants) only."""

_RELATIVE = re.compile(r"^\s*(\d+)\s*(h|d|w|m|y)\s*$", re.IGNORECASE)


class FilterError(ValueError):
    """A filter value that cannot be understood; the message says what is accepted."""


@dataclass(frozen=True, slots=True)
class Filters:
    """What to include. Empty tuples mean "all"; several values of one filter mean "any of"."""

    since: datetime | None = None  # naive UTC, inclusive
    until: datetime | None = None  # naive UTC, exclusive
    campaigns: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    reps: tuple[str, ...] = ()  # email, name or CRM id
    teams: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    kind: str | None = None  # disposition | winloss
    by: str | None = None  # a DIMENSIONS entry
    period: str = "week"  # week | month, for trends
    date_by: str = "sent"  # a DATE_BY key: the date periods and --since/--until read
    reasons: tuple[str, ...] = ()  # verbatims: reason codes
    competitors: tuple[str, ...] = ()  # verbatims / competitors
    outcomes: tuple[str, ...] = ()  # verbatims
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.by is not None and self.by not in (*DIMENSIONS, VARIANT):
            raise FilterError(f"--by must be one of {', '.join(DIMENSIONS)}, not {self.by!r}")
        if self.period not in ("week", "month"):
            raise FilterError(f"--period must be week or month, not {self.period!r}")
        if self.date_by not in DATE_BY:
            raise FilterError(f"--date-by must be one of {', '.join(DATE_BY)}, not {self.date_by!r}")
        if self.kind is not None and self.kind not in ("disposition", "winloss"):
            raise FilterError(f"--kind must be disposition or winloss, not {self.kind!r}")
        if self.since and self.until and self.since >= self.until:
            raise FilterError("--since must be before --until")

    def as_dict(self) -> dict[str, Any]:
        return {
            k: (list(v) if isinstance(v, tuple) else v)
            for k, v in asdict(self).items()
            if v not in (None, ())
        }

    def describe(self, tz: ZoneInfo) -> str:
        """One line a reader can check: which period and which slice the figures cover."""
        parts: list[str] = []
        if self.since or self.until:
            since = _local_day(self.since, tz) if self.since else "the start"
            until = _local_day(self.until - timedelta(microseconds=1), tz) if self.until else "now"
            parts.append(f"{since} to {until}")
        else:
            parts.append("all time")
        if self.date_by != "sent":
            parts[-1] += f" by {DATE_BY[self.date_by]}"
        for label, values in (
            ("campaign", self.campaigns),
            ("source", self.sources),
            ("rep", self.reps),
            ("team", self.teams),
            ("segment", self.segments),
            ("reason", self.reasons),
            ("competitor", self.competitors),
            ("outcome", self.outcomes),
        ):
            if values:
                parts.append(f"{label}: {', '.join(values)}")
        if self.kind:
            parts.append(f"kind: {self.kind}")
        return " · ".join(parts)


def _local_day(value: datetime, tz: ZoneInfo) -> str:
    return value.replace(tzinfo=UTC).astimezone(tz).date().isoformat()


def _months_back(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for d in (day.day, 30, 29, 28):  # clamp 31 March - 1 month to 28/29 February
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def parse_when(text: str, *, now: datetime, tz: ZoneInfo, end: bool = False) -> datetime:
    """A date word -> naive UTC. ``end=True`` reads a bare date as the end of that day (exclusive bound).

    Relative forms count back from ``now``: ``48h``, ``30d``, ``12w``, ``6m`` (calendar months),
    ``1y``. ``today`` and ``yesterday`` are local days.
    """
    now_local = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(tz)
    raw = text.strip().lower()
    match = _RELATIVE.match(raw)
    if match:
        amount, unit = int(match.group(1)), match.group(2).lower()
        if unit == "h":
            moment = now_local - timedelta(hours=amount)
        elif unit == "d":
            moment = now_local - timedelta(days=amount)
        elif unit == "w":
            moment = now_local - timedelta(weeks=amount)
        else:
            months = amount * (12 if unit == "y" else 1)
            moment = datetime.combine(_months_back(now_local.date(), months), now_local.timetz())
        return moment.astimezone(UTC).replace(tzinfo=None)
    if raw in ("today", "yesterday", "now"):
        if raw == "now":
            return now_local.astimezone(UTC).replace(tzinfo=None)
        day = now_local.date() - timedelta(days=1 if raw == "yesterday" else 0)
        return _day_bound(day, tz, end)
    try:
        if len(raw) == 10:
            return _day_bound(date.fromisoformat(raw), tz, end)
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise FilterError(
            f"cannot read the date {text!r}: use YYYY-MM-DD, a date and time, today, yesterday, "
            "or a span back from now like 30d, 12w, 6m, 1y"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC).replace(tzinfo=None)


def _day_bound(day: date, tz: ZoneInfo, end: bool) -> datetime:
    if end:
        day += timedelta(days=1)
    return datetime.combine(day, datetime.min.time(), tz).astimezone(UTC).replace(tzinfo=None)


# filter values: codes, the labels reports print, aliases ------------------------------------------

RESOLVED = ("campaigns", "sources", "reps", "teams", "segments", "reasons", "competitors", "outcomes")
"""The :class:`Filters` fields whose values are checked against a :class:`Vocabulary`."""

OPTION_OF = {
    "campaigns": "--campaign",
    "sources": "--source",
    "reps": "--rep",
    "teams": "--team",
    "segments": "--segment",
    "reasons": "--reason",
    "competitors": "--competitor",
    "outcomes": "--outcome",
}

_LISTED = 30  # at most this many valid values in a message (a taxonomy's reasons); beyond, the closest


def fold(text: str) -> str:
    """How a filter value is compared: case and runs of spaces do not matter."""
    return " ".join(text.casefold().split())


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """What one filter accepts: each spelling (folded) -> the stored values it stands for.

    A label or an alias may stand for several stored values (the same label under two kinds, a
    competitor stored as written before it was configured), so the filter keeps them all.
    ``typos`` accepts a spelling one or two edits away when exactly one value is that close: safe
    for a curated list (outcomes, reasons, competitors), not for free-text CRM values where
    "Webinar 2025" and "Webinar 2026" are both real.
    """

    option: str
    spellings: dict[str, frozenset[str]]
    shown: tuple[str, ...]  # the values an error lists, in the order given
    typos: bool = False
    accepts: str = "any case"  # what else an error says is accepted

    @classmethod
    def build(
        cls,
        option: str,
        entries: Iterable[tuple[str, Iterable[str]]],
        *,
        typos: bool = False,
        accepts: str = "any case",
    ) -> Vocabulary:
        """From (stored value, its other spellings) pairs; the stored value is listed in errors."""
        spellings: dict[str, set[str]] = {}
        shown: dict[str, None] = {}
        for value, others in entries:
            shown.setdefault(value)
            for spelling in (value, *others):
                if spelling.strip():
                    spellings.setdefault(fold(spelling), set()).add(value)
        return cls(option, {k: frozenset(v) for k, v in spellings.items()}, tuple(shown), typos, accepts)


def _allowed_edits(text: str) -> int:
    """Typos forgiven: none in a word of 3 letters ("won"/"wan"), 1 up to 7, 2 beyond."""
    return 0 if len(text) <= 3 else 1 if len(text) <= 7 else 2


def resolve(vocabulary: Vocabulary, given: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The stored values ``given`` stands for, and a note per value read through a typo.

    Raises :class:`FilterError` naming the first value that matches nothing, with the valid
    values (or the closest ones, when there are many).
    """
    out: dict[str, None] = {}
    notes: list[str] = []
    for raw in given:
        key = fold(raw)
        values = vocabulary.spellings.get(key)
        if values is None and vocabulary.typos and _allowed_edits(key):
            values = _near(vocabulary, key)
            if values is not None:
                notes.append(f"read {vocabulary.option} {raw!r} as {', '.join(sorted(values))}")
        if values is None:
            raise FilterError(_unknown(vocabulary, raw))
        out.update(dict.fromkeys(sorted(values)))
    return tuple(out), tuple(notes)


def _near(vocabulary: Vocabulary, key: str) -> frozenset[str] | None:
    """The one value within the allowed edits of ``key`` (None if none, or several tie)."""
    limit = _allowed_edits(key)
    best: dict[int, set[frozenset[str]]] = {}
    for spelling, values in vocabulary.spellings.items():
        distance = DamerauLevenshtein.distance(key, spelling, score_cutoff=limit)
        if distance <= limit:
            best.setdefault(distance, set()).add(values)
    if not best:
        return None
    closest = best[min(best)]
    return next(iter(closest)) if len(closest) == 1 else None


def _unknown(vocabulary: Vocabulary, raw: str) -> str:
    what = f"{vocabulary.option} {raw!r} matches nothing"
    if not vocabulary.shown:
        return f"{what}: there are no values to filter on yet"
    if len(vocabulary.shown) <= _LISTED:
        return f"{what}; valid: {', '.join(vocabulary.shown)} ({vocabulary.accepts})"
    found = process.extract(fold(raw), [fold(v) for v in vocabulary.shown], limit=8)
    closest = [vocabulary.shown[index] for _, _, index in found]
    return f"{what}; closest of {len(vocabulary.shown)}: {', '.join(closest)} ({vocabulary.accepts})"


def resolve_filters(
    filters: Filters, vocabularies: Mapping[str, Vocabulary]
) -> tuple[Filters, tuple[str, ...]]:
    """``filters`` with every checked value replaced by the stored values it stands for.

    A field without a vocabulary is kept as given. The notes say which values were read
    through a typo, for the caller to show.
    """
    changes: dict[str, Any] = {}
    notes: list[str] = []
    for name in RESOLVED:
        given: tuple[str, ...] = getattr(filters, name)
        if given and name in vocabularies:
            changes[name], found = resolve(vocabularies[name], given)
            notes += found
    return replace(filters, **changes), tuple(notes)


def taxonomy_vocabularies(taxonomy: Taxonomy) -> dict[str, Vocabulary]:
    """Outcomes and reasons of every kind by code or label (a label may name codes of two kinds)."""
    kinds = [taxonomy.kind(k) for k in taxonomy.kinds]
    outcomes = [(o.code, [o.label]) for kind in kinds for o in kind.outcomes]
    reasons = [(r.code, [r.label]) for kind in kinds for o in kind.outcomes for r in o.reasons]
    return {
        "outcomes": Vocabulary.build("--outcome", outcomes, typos=True, accepts="or their labels, any case"),
        "reasons": Vocabulary.build("--reason", reasons, typos=True, accepts="or their labels, any case"),
    }


def competitor_vocabulary(configured: Iterable[Competitor], stored: Iterable[str]) -> Vocabulary:
    """Configured competitors by name or alias, and every name stored as written.

    The classifier stores a configured competitor under its name; an unlisted one as the rep
    wrote it, so those are values too.
    """
    entries: list[tuple[str, Iterable[str]]] = [(c.name, c.aliases) for c in configured]
    entries += [(name, ()) for name in stored]
    return Vocabulary.build("--competitor", entries, typos=True, accepts="or an alias, any case")
