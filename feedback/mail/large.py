"""A large message made small before the stdlib parses it: the same structure, bodies cut short.

``email.message_from_bytes`` holds a message as lines of text and joins them again: 31 MiB at
peak for a 4 MiB message (bench/ingest_memory.py), and it decodes nothing the parser then reads.
The parser reads the header fields, the first ``MAX_TEXT_BYTES`` of each body text, and how many
attachments there are, so a message over ``SLIM_FROM`` bytes is first rewritten at the byte
level: header blocks and boundary lines are kept, each body text is cut after what decoding
reads (enough to stay over ``MAX_TEXT_BYTES`` decoded, so the "only its start was read" warning
holds), and the bodies nobody reads (attachments, preambles, epilogues) are left out. The stdlib
then parses a message of a few hundred KiB and ``walk_message`` sees what it saw before.

Only plain structure is rewritten: an entity whose header block holds a line that is not a
header field, a multipart without its boundary, a digest, a base64 text not cut on whole quads,
or bytes the stdlib reads as extra line breaks (lone CR, form feed...) is kept as it is, at the
stdlib's cost. Never raises: any surprise keeps the message whole.
"""

from __future__ import annotations

import re
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser

from feedback.mail.decode import MAX_DEPTH, MAX_TEXT_BYTES

SLIM_FROM = 1024 * 1024  # smaller messages are parsed exactly as they come

_EOL = re.compile(rb"\r?\n")
_FIELD = re.compile(rb"[\x21-\x39\x3b-\x7e]+:|[ \t]")  # a header field line or its continuation
# str.splitlines, which the stdlib's feed parser uses, breaks lines at these too
_ODD_BREAKS = (b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e")
_READ_TEXT = frozenset({"text/plain", "text/html"})  # read unless attached
_READ_ALWAYS = frozenset({"text/rfc822-headers", "text/global-headers"})
_NESTED = frozenset({"message/rfc822", "message/global"})
_BASE64_LINES = re.compile(rb"[A-Za-z0-9+/]*")  # whole quads of these, lines joined, or kept whole

Span = tuple[int, int]
Buffer = bytes | bytearray


def slim(raw: Buffer, end: int | None = None) -> Buffer:
    """``raw[:end]`` with its unread bodies left out, or as it is when that is not safe."""
    end = len(raw) if end is None else min(end, len(raw))
    try:
        if not _plain_breaks(raw, end):
            return raw[:end]
        spans = _entity(raw, 0, end, depth=0, digest=False)
    except Exception:  # a structure this reader did not foresee: the stdlib reads it all
        return raw[:end]
    view = memoryview(raw)
    return b"".join(view[s:e] for s, e in spans)


def _plain_breaks(raw: Buffer, end: int) -> bool:
    """True when lines end in LF or CRLF only (then ``_EOL`` finds the lines the stdlib finds)."""
    if raw.count(b"\r", 0, end) != raw.count(b"\r\n", 0, end):
        return False
    return not any(raw.find(b, 0, end) >= 0 for b in _ODD_BREAKS)


def _entity(raw: Buffer, start: int, end: int, *, depth: int, digest: bool) -> list[Span]:
    """The spans of ``raw[start:end]`` (one MIME entity) the parser needs."""
    whole = [(start, end)]
    if depth > MAX_DEPTH + 2 or digest:  # the walk stops there; a digest's parts default to messages
        return whole
    body = _header_end(raw, start, end)
    if body is None:
        return whole
    head: Message = BytesHeaderParser(policy=policy.compat32).parsebytes(raw[start:body])
    ctype = head.get_content_type()
    maintype = ctype.split("/", 1)[0]
    if maintype == "multipart":
        return _multipart(raw, start, body, end, head, depth=depth)
    if ctype in _NESTED:
        return [(start, body), *_entity(raw, body, end, depth=depth + 1, digest=False)]
    if maintype == "message":  # delivery-status (field blocks the bounce reads) and the like
        return whole
    attached = str(head.get("Content-Disposition", "")).split(";", 1)[0].strip().lower() == "attachment"
    inline_file = not attached and bool(head.get_filename())
    if ctype in _READ_ALWAYS or (ctype in _READ_TEXT and not attached and not inline_file):
        cut = _text_cut(raw, body, end, str(head.get("Content-Transfer-Encoding", "")).strip().lower())
        return [(start, cut)]
    return [(start, body)]  # a body nobody reads: its header block says all the walk needs


def _header_end(raw: Buffer, start: int, end: int) -> int | None:
    """Where the body starts (after the empty line), or None when the block is not plain fields."""
    pos = start
    while pos < end:
        eol = _EOL.search(raw, pos, end)
        if eol is None:
            return None
        if eol.start() == pos:
            return eol.end()
        if not _FIELD.match(raw, pos, eol.start()):
            return None
        pos = eol.end()
    return None


def _multipart(raw: Buffer, start: int, body: int, end: int, head: Message, *, depth: int) -> list[Span]:
    """Header block, then each part between its boundary lines; preamble and epilogue left out."""
    whole = [(start, end)]
    boundary = head.get_boundary()
    if not boundary:
        return whole
    line = re.compile(
        rb"^--" + re.escape(boundary.encode("ascii", "surrogateescape")) + rb"(--)?[ \t]*(?:\r?\n|\Z)",
        re.MULTILINE,
    )
    marks = list(line.finditer(raw, body, end))
    if not marks or marks[0].group(1):
        return whole
    spans: list[Span] = [(start, body)]
    digest = head.get_content_subtype() == "digest"
    for i, mark in enumerate(marks):
        spans.append((mark.start(), mark.end()))
        if mark.group(1):  # the closing line: the rest is epilogue
            break
        stop = marks[i + 1].start() if i + 1 < len(marks) else end
        spans += _entity(raw, mark.end(), stop, depth=depth + 1, digest=digest)
    return spans


def _text_cut(raw: Buffer, body: int, end: int, encoding: str) -> int:
    """Where a body text may end and still decode to its first ``MAX_TEXT_BYTES`` and beyond."""
    if encoding in ("", "7bit", "8bit", "binary"):
        need = MAX_TEXT_BYTES + 3  # the line break before a boundary belongs to the boundary
    elif encoding == "quoted-printable":
        need = 4 * MAX_TEXT_BYTES  # "=XX" per byte, soft breaks
    elif encoding == "base64":
        need = 2 * MAX_TEXT_BYTES  # 4 characters per 3 bytes, line breaks
    else:  # uuencode and unknown labels: decoded by rules of their own, kept whole
        return end
    if end - body <= need + 64 * 1024:
        return end
    if encoding == "base64":
        cut = raw.rfind(b"\n", body, body + need) + 1
        chunk = raw[body:cut].translate(None, b"\r\n")
        quads, odd = divmod(len(chunk), 4)
        if odd or quads * 3 <= MAX_TEXT_BYTES + 3 or not _BASE64_LINES.fullmatch(chunk):
            return end
        return cut
    eol = raw.find(b"\n", body + need, end)
    return end if eol < 0 else eol + 1
