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
    """Python codec name for a declared charset, or None when unknown/absent."""
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    try:
        codec = codecs.lookup(name).name
    except (LookupError, ValueError):
        return None
    return codec


def decode_bytes(data: bytes, declared: str | None) -> tuple[str, str | None]:
    """Decode ``data``: declared charset strictly, then UTF-8, then detection, then cp1252/latin-1.

    Valid non-ASCII UTF-8 wins over a declared Latin charset: mislabelled UTF-8 is common, while
    Latin-1 text that happens to be valid multi-byte UTF-8 is vanishingly rare.
    Returns the text and a warning when the declared charset was wrong or unknown.
    """
    codec = normalise_charset(declared)
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
        except (UnicodeDecodeError, LookupError):
            pass
    warning = f"charset {declared!r} did not decode the body" if declared else "no charset declared"
    try:
        guess = from_bytes(data[:65536]).best()
    except Exception:
        guess = None
    if guess is not None and guess.encoding:
        try:
            return data.decode(guess.encoding), warning
        except (UnicodeDecodeError, LookupError):
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


def _payload_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
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
    text = text.replace("\r\n", "\n").replace("\r", "\n")
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
        payload = part.get_payload()
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
