"""MIME decoding: walk the parts, pick the body, decode transfer encodings and charsets.

Measured on the corpus (bench/parse_speed.py): ``email.message_from_bytes`` with
``policy.default`` plus ``get_body``/``get_content`` costs ~1.5 ms a message, more than the whole
budget; ``policy.compat32`` parses the same message in ~0.1 ms, so parts are decoded here by hand.
Limits keep hostile input cheap: the walk stops at ``MAX_DEPTH`` levels and ``MAX_PARTS`` parts,
and only the first ``MAX_TEXT_BYTES`` of a text part are decoded.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from email.message import Message

from charset_normalizer import from_bytes

MAX_DEPTH = 20
MAX_PARTS = 300
MAX_TEXT_BYTES = 256 * 1024

_LATIN_FAMILY = {"ascii", "latin-1", "iso8859-1", "cp1252", "iso8859-15"}
# WHATWG: labels that mean windows-1252 in practice (mail clients say latin-1, send cp1252)
_ALIASES = {"latin-1": "cp1252", "iso8859-1": "cp1252", "ascii": "cp1252"}
# Codecs Python knows that are not charsets of text: labels naming them are treated as unknown
# ("undefined" always raises, IDNA/punycode and the escape codecs turn prose into nonsense or raise
# arbitrary errors). Bytes-to-bytes codecs (base64, zlib, ...) are refused by ``_is_text_encoding``.
_NOT_CHARSETS = frozenset(
    {"undefined", "punycode", "idna", "unicode-escape", "raw-unicode-escape", "charmap", "mbcs", "oem"}
)
# Single-byte code pages of Latin script: on a few accented letters, detection cannot tell them
# apart (it reads "ñ" as cp1250 "ń"); windows-1252, the WHATWG default, is right for the
# product's languages (en, de, fr, es). Detection is kept for other scripts and multi-byte text.
_LATIN_SINGLE_BYTE = frozenset(
    {"cp1250", "cp1252", "cp1254", "cp1257", "cp1258", "latin_1", "mac_roman", "mac_latin2"}
    | {f"iso8859_{n}" for n in (1, 2, 3, 4, 9, 10, 13, 14, 15, 16)}
)
_WIDE = frozenset({"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"})


@dataclass(slots=True)
class TextPart:
    """A decoded text/plain or text/html body candidate."""

    subtype: str
    text: str
    truncated: bool = False


@dataclass(slots=True)
class Walk:
    """What the walk found: body candidates, report parts and attachment counts."""

    plain: list[TextPart] = field(default_factory=list)
    html: list[TextPart] = field(default_factory=list)
    delivery_status: list[Message] = field(default_factory=list)  # one Message per field block
    attached_messages: list[Message] = field(default_factory=list)  # message/rfc822 children
    attached_headers: list[str] = field(default_factory=list)  # text/rfc822-headers
    attachments: int = 0
    report_type: str | None = None
    warnings: list[str] = field(default_factory=list)


def normalise_charset(name: str | None) -> str | None:
    """Python codec name for a declared charset; None when unknown, absent or not a text charset."""
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return None
    return info.name


def wide_charset(data: bytes) -> str | None:
    """UTF-16/32 recognised by its byte-order mark or its NUL pattern, else None.

    UTF-16 text sent under an 8-bit label (a client's "Unicode" save labelled windows-1252)
    decodes to letters separated by U+0000: unreadable, and unstorable on PostgreSQL.
    """
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = data[:4096]
    pairs = len(sample) // 2
    if pairs < 2 or b"\x00" not in sample:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd > 0.3 * pairs and even < 0.05 * pairs:
        return "utf-16-le"
    if even > 0.3 * pairs and odd < 0.05 * pairs:
        return "utf-16-be"
    return None


def _detect(data: bytes) -> str | None:
    """A codec for undeclared or undecodable bytes (detection, with the Latin rule above)."""
    try:
        guess = from_bytes(data[:65536]).best()
    except Exception:
        return None
    if guess is None or not guess.encoding:
        return None
    encoding = codecs.lookup(guess.encoding).name.replace("-", "_")
    if encoding in _LATIN_SINGLE_BYTE or (encoding.startswith(("utf_16", "utf_32")) and b"\x00" not in data):
        return None  # windows-1252 below; a UTF-16 guess without a single NUL is a misfire
    return guess.encoding


def decode_bytes(data: bytes, declared: str | None) -> tuple[str, str | None]:
    """Decode ``data``: declared charset strictly, then UTF-8, then detection, then cp1252/latin-1.

    Valid non-ASCII UTF-8 wins over a declared Latin charset: mislabelled UTF-8 is common, while
    Latin-1 text that happens to be valid multi-byte UTF-8 is vanishingly rare. A label Python
    cannot decode with (unknown, not a text charset, or failing with any error) counts as absent.
    Returns the text and a warning when the declared charset was wrong or unknown. Never raises.
    """
    codec = normalise_charset(declared)
    wide = wide_charset(data) if codec not in _WIDE else None
    if wide is not None:
        text = data.decode(wide, "replace")
        return text, f"declared {declared!r} but body is {wide.upper()}" if declared else None
    if data.isascii():
        return data.decode("ascii"), None
    if codec is None or codec in _LATIN_FAMILY:
        try:
            text = data.decode("utf-8")
            warn = None if codec is None and not declared else f"declared {declared!r} but body is UTF-8"
            return text, (None if codec is None and declared is None else warn)
        except UnicodeDecodeError:
            pass
    if codec is not None:
        try:
            return data.decode(_ALIASES.get(codec, codec)), None
        except Exception:  # UnicodeError, but some codecs raise ValueError, TypeError, IndexError...
            pass
    warning = f"charset {declared!r} did not decode the body" if declared else "no charset declared"
    guess = _detect(data)
    if guess is not None:
        try:
            return data.decode(guess), warning
        except Exception:
            pass
    try:
        return data.decode("cp1252"), warning
    except UnicodeDecodeError:
        return data.decode("latin-1"), warning


def unflow(text: str, *, delsp: bool) -> str:
    """Undo RFC 3676 format=flowed: join soft-broken lines of equal quote depth."""
    out: list[str] = []
    buf: str | None = None
    depth_buf = 0

    def flush() -> None:
        nonlocal buf
        if buf is not None:
            out.append(">" * depth_buf + " " + buf if depth_buf else buf)
            buf = None

    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        soft = content.endswith(" ") and content != "-- "
        if soft and delsp:
            content = content[:-1]
        if buf is not None and depth == depth_buf:
            buf += content
        else:
            flush()
            buf, depth_buf = content, depth
        if not soft:
            flush()
    flush()
    return "\n".join(out)


def _parsed_payload(part: Message) -> object:
    """The payload as parsed (a list of parts, or the undecoded text).

    ``get_payload()`` decodes 8-bit text with the declared charset to hand it back, and raises
    for labels such as ``punycode``; the walk needs the structure only, so it reads it directly.
    """
    return getattr(part, "_payload", None)


def _payload_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    raw = _parsed_payload(part)
    if isinstance(raw, str):
        return raw.encode("ascii", "surrogateescape")
    return b""


def _text_of(part: Message, walk: Walk) -> TextPart:
    data = _payload_bytes(part)
    truncated = len(data) > MAX_TEXT_BYTES
    if truncated:
        data = data[:MAX_TEXT_BYTES]
        walk.warnings.append(f"text part longer than {MAX_TEXT_BYTES} bytes: only its start was read")
    text, warn = decode_bytes(data, part.get_content_charset())
    if warn:
        walk.warnings.append(warn)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")  # NUL is never prose
    subtype = part.get_content_subtype()
    if subtype == "plain" and part.get_param("format", "").lower() == "flowed":  # type: ignore[union-attr]
        delsp = str(part.get_param("delsp", "no")).lower() == "yes"
        text = unflow(text, delsp=delsp)
    return TextPart(subtype=subtype, text=text, truncated=truncated)


def _is_attachment(part: Message) -> bool:
    disp = str(part.get("Content-Disposition", "")).split(";", 1)[0].strip().lower()
    return disp == "attachment" or (disp == "inline" and bool(part.get_filename()))


def walk_message(msg: Message) -> Walk:
    """Collect body candidates and report parts, depth- and count-limited, iteratively."""
    walk = Walk()
    if msg.get_content_type() == "multipart/report":
        walk.report_type = str(msg.get_param("report-type", "")).lower() or None
    stack: list[tuple[Message, int]] = [(msg, 0)]
    seen = 0
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > MAX_PARTS:
            walk.warnings.append(f"more than {MAX_PARTS} MIME parts: the rest were skipped")
            break
        ctype = part.get_content_type()
        maintype = ctype.split("/", 1)[0]
        payload = _parsed_payload(part)
        if ctype == "message/delivery-status":
            if isinstance(payload, list):
                walk.delivery_status.extend(p for p in payload if isinstance(p, Message))
            continue
        if ctype in ("message/rfc822", "message/global"):
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                walk.attached_messages.append(payload[0])
            walk.attachments += depth > 0 and _is_attachment(part)
            continue
        if ctype in ("text/rfc822-headers", "text/global-headers"):
            walk.attached_headers.append(_text_of(part, walk).text)
            continue
        if maintype == "multipart" or isinstance(payload, list):
            if depth >= MAX_DEPTH:
                walk.warnings.append(f"MIME nesting deeper than {MAX_DEPTH}: inner parts skipped")
                continue
            if isinstance(payload, list):
                children = [p for p in payload if isinstance(p, Message)]
                stack.extend((child, depth + 1) for child in reversed(children))
            continue
        if maintype == "text" and ctype in ("text/plain", "text/html") and not _is_attachment(part):
            tp = _text_of(part, walk)
            (walk.plain if tp.subtype == "plain" else walk.html).append(tp)
            continue
        walk.attachments += 1
    return walk
