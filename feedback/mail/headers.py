"""Header decoding: RFC 2047 words, addresses, message ids and dates, tolerant of junk.

The message is parsed with ``policy.compat32`` (about 10x cheaper than ``policy.default``), so
header values arrive raw: encoded words undecoded and 8-bit bytes as surrogate escapes. These
helpers turn them into clean ``str`` values and never raise.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from weakref import WeakKeyDictionary

# an e-mail address written anywhere in a line (a header value, an attribution, a display name)
ADDRESS_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

MAX_HEADER_CHARS = 4000  # longer values are cut before decoding: nothing useful lives past this
_MSGID_RE = re.compile(r"<[^<>\s]{1,250}>")
_WS_RE = re.compile(r"\s+")
_SURROGATE_RE = re.compile("[\udc80-\udcff]")


def _from_surrogates(value: str) -> str:
    """Undo surrogate escapes of raw 8-bit header bytes (UTF-8 first, then cp1252)."""
    if value.isascii() or not _SURROGATE_RE.search(value):
        return value
    data = value.encode("ascii", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _decode_chunk(data: bytes | str, charset: str | None) -> str:
    if isinstance(data, str):
        return data
    for cs in (charset, "utf-8", "cp1252"):
        if not cs:
            continue
        try:
            return data.decode(cs)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("latin-1")


def decode_value(value: object) -> str:
    """Decode one header value (RFC 2047 words, folding, raw 8-bit) to a single-line string."""
    if value is None:
        return ""
    text = _from_surrogates(str(value))[:MAX_HEADER_CHARS]
    if "=?" in text:
        try:
            parts = decode_header(text)
            text = "".join(_decode_chunk(data, cs) for data, cs in parts)
        except Exception:
            pass
    return _WS_RE.sub(" ", text).strip()


_INDEX: WeakKeyDictionary[Message, tuple[int, dict[str, list[str]]]] = WeakKeyDictionary()


def _raw_values(msg: Message, name: str) -> list[str]:
    """Raw values (with surrogate escapes intact: compat32 would turn 8-bit bytes into U+FFFD).

    A message's headers are indexed by lower-cased name once (a parse asks for about twenty),
    and indexed again if headers were added or removed since."""
    cached = _INDEX.get(msg)
    if cached is None or cached[0] != len(msg):
        index: dict[str, list[str]] = {}
        for k, v in msg.raw_items():
            index.setdefault(k.lower(), []).append(str(v))
        cached = (len(msg), index)
        _INDEX[msg] = cached
    return list(cached[1].get(name.lower(), ()))


def get(msg: Message, name: str) -> str:
    """The decoded first value of header ``name`` ("" when absent or unreadable)."""
    try:
        values = _raw_values(msg, name)
        return decode_value(values[0]) if values else ""
    except Exception:  # a broken header is an absent header
        return ""


def get_all(msg: Message, name: str) -> list[str]:
    try:
        return [decode_value(v) for v in _raw_values(msg, name)]
    except Exception:
        return []


# "Pat Rep <pat@x.example>", "<pat@x.example>", "pat@x.example": one address and a plain name (no
# quotes, comments, commas or group syntax), which the stdlib's character-by-character address
# parser reads the same way at a tenth of the cost; anything else goes to it
_SIMPLE_ADDRESS_RE = re.compile(
    r"\s*(?:([A-Za-z0-9À-ɏ][A-Za-z0-9À-ɏ .'-]{0,100}?)\s*)?<([A-Za-z0-9._+-]{1,64}@[A-Za-z0-9.-]{1,255})>\s*"
    r"|\s*([A-Za-z0-9._+-]{1,64}@[A-Za-z0-9.-]{1,255})\s*"
)


def addresses(values: list[str]) -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs; entries without an ``@`` are dropped."""
    out: list[tuple[str, str]] = []
    rest: list[str] = []
    for value in values:
        m = _SIMPLE_ADDRESS_RE.fullmatch(value)
        if m is None or ".." in value or value.rstrip(">").endswith("."):
            rest.append(value)
        elif m.group(2):
            out.append((" ".join((m.group(1) or "").split()), m.group(2).lower()))
        else:
            out.append(("", m.group(3).lower()))
    if not rest:
        return out
    try:
        pairs = getaddresses(values)
    except Exception:
        return []
    return [(name.strip(), addr.strip().lower()) for name, addr in pairs if "@" in addr]


def message_ids(value: str) -> tuple[str, ...]:
    """Message ids with angle brackets, in order (at most 50: References can be huge)."""
    return tuple(_MSGID_RE.findall(value)[:50])


def first_message_id(value: str) -> str | None:
    ids = message_ids(value)
    if ids:
        return ids[0]
    value = value.strip()
    return value or None


def parse_date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except Exception:
        return None
