"""Reading one cell: e-mail addresses, CRM stages, dates and times, amounts, languages, flags."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feedback.importing.problems import ImportingError, InvalidValue
from feedback.runtime.settings import DEFAULT_STAGES, Settings

_EMAIL = re.compile(r"[^@\s<>,;()\"]+@[^@\s<>,;()\"]+\.[^@\s<>,;()\"]+")

# C0 and C1 controls (tab, CR and LF included), DEL, and the Unicode line and paragraph
# separators: none belongs in a name, a team or an id, and a line break in a rep's name ends up
# in a mail header, where it breaks every mail to that rep.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_NAMES = {
    "\n": "a line break",
    "\r": "a carriage return",
    "\t": "a tab",
    "\x00": "a NUL byte",
    "\u2028": "a line separator",
    "\u2029": "a paragraph separator",
}


def control_character(value: str) -> str | None:
    """'a line break (U+000A)' for the first control character in ``value``, else None."""
    match = _CONTROL.search(value)
    if match is None:
        return None
    char = match.group()
    return f"{_CONTROL_NAMES.get(char, 'a control character')} (U+{ord(char):04X})"


def shown(value: str, limit: int = 60) -> str:
    """A cell as it can be printed on one line: quoted, control characters escaped, cut short."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def printable(value: str) -> str:
    """``value`` as it is, or quoted and escaped when it holds a control character."""
    return value if control_character(value) is None else shown(value)


def check_text(value: str, what: str) -> str:
    """``value`` unchanged, or InvalidValue naming the control character it holds."""
    found = control_character(value)
    if found is not None:
        raise InvalidValue(
            f"{what} {shown(value)} contains {found}: control characters and line breaks are "
            "not allowed; remove it and try again"
        )
    return value


def normalise_email(value: str) -> str:
    """Lower-cased address; refuses anything that is not one address."""
    check_text(value, "the address")
    email = value.strip().strip("<>").lower()
    if not _EMAIL.fullmatch(email):
        raise InvalidValue(f"{value!r} is not an email address")
    return email


def email_in(value: str) -> str | None:
    """The address inside an owner cell ('Ann Lee <ann@x.example>', 'ann@x.example'), lower-cased."""
    match = _EMAIL.search(value)
    return match.group().lower() if match else None


def name_key(value: str) -> str:
    """A person's name for matching: Unicode-normalised, case-folded, spacing collapsed."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def map_stage(stage: str | None, stages: Mapping[str, str] | None = None) -> str:
    """CRM stage name -> won | lost | open, through settings.crm_stages (case-insensitive).

    Unmapped names containing the word "won" or "lost" ("Closed Won - Renewal") map to it; any
    other unmapped stage is still open.
    """
    if not stage or not stage.strip():
        return "open"
    table = {name_key(k): v for k, v in (stages if stages is not None else DEFAULT_STAGES).items()}
    key = name_key(stage)
    if key in table:
        return table[key]
    squashed = re.sub(r"[^0-9a-z]", "", key)
    for name, result in table.items():
        if re.sub(r"[^0-9a-z]", "", name) == squashed:
            return result
    words = set(re.split(r"[^0-9a-z]+", key))
    has_won = bool(words & {"won", "closedwon"})
    has_lost = bool(words & {"lost", "closedlost"})
    if has_won != has_lost:
        return "won" if has_won else "lost"
    return "open"


_TZ_SUFFIX = re.compile(r"\s*(?:\b(UTC|GMT|Z)|([+-]\d{2}):?(\d{2}))$", re.IGNORECASE)
_DATETIME_FORMATS = (
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y",
    "%m/%d/%y %I:%M %p",
    "%m/%d/%y",
    "%d/%m/%Y %H:%M",  # only reached when the day is > 12 (25/10/2026)
    "%d/%m/%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y",
    "%d.%m.%y",
    "%Y-%m-%d %I:%M %p",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%d-%b-%Y",
    "%b %d %Y",
)


def _parse_any(value: str) -> datetime:
    text = " ".join(value.replace(",", " ").split())
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    zone: tzinfo | None = None
    match = _TZ_SUFFIX.search(text)
    if match and match.start() > 0:
        if match.group(1):
            zone = UTC
        else:
            sign = -1 if match.group(2).startswith("-") else 1
            hours, minutes = int(match.group(2)[1:]), int(match.group(3))
            zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
        text = text[: match.start()].strip()
        try:
            return datetime.fromisoformat(text).replace(tzinfo=zone)
        except ValueError:
            pass
    for fmt in _DATETIME_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed.replace(tzinfo=zone) if zone else parsed
    raise InvalidValue(f"{value!r} is not a date (use YYYY-MM-DD [HH:MM], M/D/YYYY [h:mm AM] or D.M.YYYY)")


def parse_datetime(value: str, *, tz: tzinfo) -> datetime:
    """A CRM timestamp as naive UTC; a value without a zone is read in ``tz``."""
    parsed = _parse_any(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC).replace(tzinfo=None)


def parse_date(value: str, *, tz: tzinfo) -> date:
    """A calendar date; a timestamp with a zone is first moved to ``tz`` (the business's day)."""
    parsed = _parse_any(value)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(tz)
    return parsed.date()


_CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}


def parse_amount(value: str) -> tuple[float | None, str | None]:
    """'$12,500.00', '12.500,00 €', '12500', 'EUR 9 900' -> (amount, currency code or None).

    A single separator followed by exactly three digits is a thousands separator when it is a
    comma ("12,500") and a decimal point when it is a dot ("12.500" = 12.5); with both present
    the last one is the decimal mark.
    """
    text = value.strip()
    if not text or text in {"-", "—", "n/a", "N/A"}:
        return None, None
    currency = next((code for sign, code in _CURRENCY_SIGNS.items() if sign in text), None)
    code = re.search(r"(?<![A-Za-z])([A-Za-z]{3})(?![A-Za-z])", text)
    if code:
        currency = code.group(1).upper()
    negative = text.startswith("-") or (text.startswith("(") and text.endswith(")"))
    digits = re.sub(r"[^0-9.,]", "", text)
    if not re.search(r"\d", digits):
        raise InvalidValue(f"{value!r} is not an amount")
    if "," in digits and "." in digits:
        decimal = "," if digits.rfind(",") > digits.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        digits = digits.replace(thousands, "").replace(decimal, ".")
    elif "," in digits:
        if re.fullmatch(r"\d{1,3}(,\d{3})+", digits):
            digits = digits.replace(",", "")
        else:
            digits = digits.replace(",", ".")
    elif digits.count(".") > 1 and re.fullmatch(r"\d{1,3}(\.\d{3})+", digits):
        digits = digits.replace(".", "")
    if not re.fullmatch(r"\d+(\.\d+)?|\.\d+", digits):
        raise InvalidValue(f"{value!r} is not an amount")
    amount = float(digits)
    return (-amount if negative else amount), currency


_LANGUAGES = {
    "english": "en",
    "german": "de",
    "deutsch": "de",
    "french": "fr",
    "français": "fr",
    "francais": "fr",
    "spanish": "es",
    "español": "es",
    "espanol": "es",
}


# Dynamics 365 exports the currency's display name ("US Dollar"), not its code.
_CURRENCY_NAMES = {
    "us dollar": "USD",
    "u.s. dollar": "USD",
    "dollar": "USD",
    "euro": "EUR",
    "pound sterling": "GBP",
    "british pound": "GBP",
    "swiss franc": "CHF",
    "japanese yen": "JPY",
    "canadian dollar": "CAD",
    "australian dollar": "AUD",
    "new zealand dollar": "NZD",
    "singapore dollar": "SGD",
    "hong kong dollar": "HKD",
    "indian rupee": "INR",
    "chinese yuan": "CNY",
    "yuan renminbi": "CNY",
    "swedish krona": "SEK",
    "norwegian krone": "NOK",
    "danish krone": "DKK",
    "polish zloty": "PLN",
    "czech koruna": "CZK",
    "mexican peso": "MXN",
    "brazilian real": "BRL",
    "south african rand": "ZAR",
}


def parse_currency(value: str) -> str:
    """'usd', 'EUR', '€', 'US Dollar', 'Euro (EUR)' -> a three-letter code."""
    text = " ".join(value.split())
    if re.fullmatch(r"[A-Za-z]{3}", text):
        return text.upper()
    code = re.search(r"(?<![A-Za-z])([A-Z]{3})(?![A-Za-z])", text)
    if code:
        return code.group(1)
    if text in _CURRENCY_SIGNS:
        return _CURRENCY_SIGNS[text]
    named = _CURRENCY_NAMES.get(text.casefold())
    if named:
        return named
    raise InvalidValue(f"{value!r} is not a currency (use a three-letter code such as USD or EUR)")


def parse_language(value: str) -> str:
    """'en', 'en_US', 'de-DE', 'German' -> a two-letter code."""
    text = value.strip().casefold()
    if text in _LANGUAGES:
        return _LANGUAGES[text]
    match = re.fullmatch(r"([a-z]{2})(?:[-_][a-z0-9]+)*", text)
    if not match:
        raise InvalidValue(f"{value!r} is not a language (use a code such as en, de, fr, es)")
    return match.group(1)


def parse_bool(value: str) -> bool:
    text = value.strip().casefold()
    if text in {"1", "true", "yes", "y", "active", "x", "enabled"}:
        return True
    if text in {"0", "false", "no", "n", "inactive", "disabled", "deactivated"}:
        return False
    raise InvalidValue(f"{value!r} is not true/false")


def settings_timezone(settings: Settings) -> tzinfo:
    try:
        return ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImportingError(
            f"timezone {settings.timezone!r} is unknown (use a name such as Europe/Berlin)"
        ) from None
