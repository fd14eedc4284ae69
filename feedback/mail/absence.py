"""The return date in an out-of-office reply, in English, German, French and Spanish (pure).

"Back on 14 March", "zurück am 14.03.", "de retour le 14 mars", "de vuelta el 14 de marzo",
"out until 2026-03-14": a date is taken only near a word that announces a return or an absence
end, so the date the message was written on, or the date of a quoted meeting, is not mistaken for
it. Numeric dates are read day first (the European habit of three of the four languages) unless
the first number cannot be a month's day or the second cannot be a month. A date without a year
is the next such day on or after the message's own date.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

MAX_CHARS = 3000

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "january jan januar jänner janvier janv enero ene",
        "february feb februar février fevrier févr fevr febrero",
        "march mar märz maerz marz mars marzo",
        "april apr avril abril abr",
        "may mai mayo",
        "june jun juni juin junio",
        "july jul juli juillet juil julio",
        "august aug août aout agosto ago",
        "september sep sept septembre septiembre setiembre",
        "october oct oktober okt octobre octubre",
        "november nov novembre noviembre",
        "december dec dez dezember décembre decembre déc diciembre dic",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTHS[_name] = _number

_MONTH = "|".join(sorted(map(re.escape, _MONTHS), key=len, reverse=True))
# words that announce when the person is back (or until when they are away)
_TRIGGER = (
    r"(?:back|return(?:ing|s)?|returning|until|till|through|thru|in the office|"
    r"zurück|zurueck|wieder|bis|ab dem|ab|"
    r"retour|jusqu['’]?au|jusqu['’]?à|rentre|reprendrai|"
    r"vuelta|regreso|regresaré|regresare|volveré|volvere|hasta|estaré|a partir del)"
)
_DAY = r"(?P<d>[0-3]?\d)(?:st|nd|rd|th|er|º|°|\.)?"
_YEAR = r"(?P<y>(?:19|20)?\d\d)"
_SHAPES = (
    r"(?P<iy>20\d\d)-(?P<im>[01]?\d)-(?P<id>[0-3]?\d)",  # ISO
    r"(?P<n1>[0-3]?\d)[./](?P<n2>[01]?\d)(?:[./](?P<ny>(?:19|20)?\d\d))?\.?",  # 14.03.2026, 14/03
    rf"{_DAY}\s*(?:de\s+)?(?P<m>{_MONTH})\.?(?:,?\s*(?:de\s+)?{_YEAR})?",  # 14 March, 14 de marzo
    rf"(?P<m2>{_MONTH})\.?\s+(?P<d2>[0-3]?\d)(?:st|nd|rd|th)?(?:,?\s*(?P<y2>(?:19|20)\d\d))?",  # March 14
)
_DATE_RE = re.compile(rf"(?<![\w/.-])(?:{'|'.join(_SHAPES)})(?![\w/-])", re.IGNORECASE)
_TRIGGER_RE = re.compile(rf"\b{_TRIGGER}\b", re.IGNORECASE)
_WINDOW = 60  # characters between the trigger word and the date


def return_date(text: str, *, written: datetime | date) -> date | None:
    """The first date announced as the return (or last absent day); None when none is.

    ``written``: when the message was written (its Date, else when it arrived), the anchor for a
    date given without a year.
    """
    text = text[:MAX_CHARS]
    ref = written.date() if isinstance(written, datetime) else written
    for trigger in _TRIGGER_RE.finditer(text):
        window = text[trigger.end() : trigger.end() + _WINDOW]
        match = _DATE_RE.search(window)
        if match is None:
            continue
        found = _to_date(match, ref)
        if found is not None:
            return found
    return None


def _to_date(m: re.Match[str], ref: date) -> date | None:
    g = m.groupdict()
    year: int | None
    if g["iy"]:
        year, month, day = int(g["iy"]), int(g["im"]), int(g["id"])
    elif g["n1"]:
        a, b = int(g["n1"]), int(g["n2"])
        day, month = (a, b) if b <= 12 else (b, a)
        year = _year(g["ny"])
    elif g["m"]:
        day, month, year = int(g["d"]), _MONTHS[g["m"].lower()], _year(g["y"])
    else:
        day, month, year = int(g["d2"]), _MONTHS[g["m2"].lower()], _year(g["y2"])
    if year is None:
        year = ref.year
        candidate = _safe(year, month, day)
        if candidate is not None and candidate < ref - timedelta(days=1):
            year += 1
    return _safe(year, month, day)


def _year(text: str | None) -> int | None:
    if not text:
        return None
    value = int(text)
    return value + 2000 if value < 100 else value


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
