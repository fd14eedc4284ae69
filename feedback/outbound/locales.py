"""The few words the service writes itself (not the templates) in each rep's language.

Templates carry their own prose per language (``templates/de/...``); what the code fills in,
dates, amounts, "lead X" and the summary an acknowledgement repeats, must follow the same
language or a German mail reads "am November 2, 2026". Unknown languages get English.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

_MONTHS = {
    "en": ("January February March April May June July August September October November December"),
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
}
_UNKNOWN_DAY = {
    "en": "an unknown date",
    "de": "einem unbekannten Datum",
    "fr": "une date inconnue",
    "es": "una fecha desconocida",
}
_NOT_SET = {"en": "not set", "de": "nicht angegeben", "fr": "non renseigné", "es": "sin importe"}
_THOUSANDS = {"en": ",", "de": ".", "fr": "\u202f", "es": "."}
_NOUNS = {  # (lead, deal) as a mail names them before the name
    "en": ("lead", "deal"),
    "de": ("Lead", "Deal"),
    "fr": ("le lead", "l'affaire"),
    "es": ("el lead", "la oportunidad"),
}
_SOME = {  # when the lead or deal is gone
    "en": ("a lead", "a deal"),
    "de": ("einem Lead", "einem Deal"),
    "fr": ("un lead", "une affaire"),
    "es": ("un lead", "una oportunidad"),
}
# how an acknowledgement strings reasons together: "price, then integration; competitor Contoso"
_THEN = {"en": "then", "de": "dann", "fr": "puis", "es": "luego"}
_SEMICOLON = {"fr": "\u202f; "}  # French sets a thin space before ";"
_COMPETITOR = {"en": "competitor", "de": "Wettbewerber", "fr": "concurrent", "es": "competidor"}
FOOTER = {
    "en": "Just hit reply: one sentence is plenty.",
    "de": "Einfach auf „Antworten“ klicken – ein Satz genügt.",
    "fr": "Répondez simplement à ce mail : une phrase suffit.",
    "es": "Solo tienes que responder a este correo: con una frase basta.",
}


def _lang(lang: str) -> str:
    return lang if lang in _MONTHS else "en"


def format_day(value: datetime | date | None, lang: str = "en") -> str:
    """'November 2, 2026' / '2. November 2026' / '2 novembre 2026' / '2 de noviembre de 2026'."""
    code = _lang(lang)
    if value is None:
        return _UNKNOWN_DAY[code]
    month = _MONTHS[code].split()[value.month - 1]
    if code == "en":
        return f"{month} {value.day}, {value.year}"
    if code == "de":
        return f"{value.day}. {month} {value.year}"
    if code == "fr":
        return f"{'1er' if value.day == 1 else value.day} {month} {value.year}"
    return f"{value.day} de {month} de {value.year}"


def format_amount(amount: float | None, currency: str, lang: str = "en") -> str:
    """A whole amount with the language's thousands separator: '48.000 EUR'."""
    code = _lang(lang)
    if amount is None:
        return _NOT_SET[code]
    return f"{amount:,.0f}".replace(",", _THOUSANDS[code]) + f" {currency}"


def about_text(kind: str, name: str | None, lang: str = "en") -> str:
    """'lead Peter Hoffmann (Globex)', 'Lead …', 'le lead …'; ``name`` None when it is gone."""
    code = _lang(lang)
    index = 0 if kind == "lead" else 1
    return f"{_NOUNS[code][index]} {name}" if name is not None else _SOME[code][index]


def answer_summary(
    outcome: str | None, reasons: Sequence[str], competitor: str | None, lang: str = "en"
) -> str:
    """What an acknowledgement repeats, so a rep can spot a misreading at a glance.

    ``outcome`` and ``reasons`` are labels already in ``lang``, reasons in the order recorded:
    "Lost — Price, then Integration; competitor Contoso".
    """
    code = _lang(lang)
    text = outcome or ""
    if reasons:
        joined = f", {_THEN[code]} ".join(reasons)
        text = f"{text} — {joined}" if text else joined
    if competitor:
        named = f"{_COMPETITOR[code]} {competitor}"
        text = f"{text}{_SEMICOLON.get(code, '; ')}{named}" if text else named
    return text
