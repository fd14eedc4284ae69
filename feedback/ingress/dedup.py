"""The dedup key of a raw message: its Message-ID plus a checksum of what the sender wrote.

"What the sender wrote" must survive what relays do to a message in transit, or one message
redelivered through another path is stored (and answered) twice:

- trace headers added (``Received:``...): only the originator headers are hashed;
- headers refolded, encoded words re-encoded: values are unfolded, decoded, whitespace-normalised;
- the body re-encoded (8bit -> quoted-printable or base64 by a relay without 8BITMIME, line
  endings changed): each MIME leaf is hashed as decoded content with its media type, never as
  transfer-encoded bytes, and its line ends and trailing blanks are normalised;
- a ``Date:`` added when the original had none (Postfix, Exchange, Sendmail do): ``Date`` is not
  hashed at all, as a relay may add it to one copy and not another; the Message-ID identifies the
  message, and without one, two copies of the same text from the same sender on the same thread
  with the same subject are the same answer anyway.

Hashed: Message-ID, From, Subject, In-Reply-To and the decoded content. The MIME walk is a byte
scan with C decoders (``binascii``), no ``email`` parsing: a few microseconds for a reply and
tens of milliseconds at the 25 MiB limit, on the ingest's writer thread.

Keys carry a version prefix (``m2:`` / ``x2:``). Rows stored under the first scheme (``m:`` /
``x:``, a checksum of the raw body and of Date) keep their keys: they stay unique and nothing reads
them but the upsert, so no migration is needed. The only cost: a copy of a message stored before
the upgrade that arrives again after it is stored once more (relays give up retrying within days).
"""

from __future__ import annotations

import binascii
import hashlib
import re
from email.header import decode_header

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_KEYED = (b"message-id", b"from", b"subject", b"in-reply-to")
_MIME = (b"content-type", b"content-transfer-encoding")
_MAX_HEADER_SCAN = 256 * 1024
MAX_DEPTH = 20
MAX_PARTS = 300
_BOUNDARY = re.compile(rb"""boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))""", re.IGNORECASE)


def split_head(raw: bytes) -> tuple[bytes, bytes]:
    """Header block and body (the body is empty when there is no blank line)."""
    m = _HEADER_END.search(raw, 0, _MAX_HEADER_SCAN)
    if m is None:
        return raw[:_MAX_HEADER_SCAN], b""
    return raw[: m.start()], raw[m.end() :]


def header_fields(head: bytes, names: tuple[bytes, ...] = _KEYED) -> dict[bytes, bytes]:
    """First value of each header in ``names``, unfolded, whitespace-normalised (lower-case names)."""
    fields: dict[bytes, bytes] = {}
    name: bytes | None = None
    value: list[bytes] = []
    for line in head.splitlines():
        if line[:1] in (b" ", b"\t") and name is not None:
            value.append(line.strip())
            continue
        if name is not None and name in names and name not in fields:
            fields[name] = b" ".join(value)
        key, sep, rest = line.partition(b":")
        name = key.strip().lower() if sep else None
        value = [rest.strip()]
    if name is not None and name in names and name not in fields:
        fields[name] = b" ".join(value)
    return fields


def _header_text(value: bytes) -> bytes:
    """A header value as text: encoded words decoded (relays re-encode them), spaces normalised."""
    if b"=?" in value:
        try:
            parts = decode_header(value.decode("ascii", "surrogateescape"))
            value = b"".join(
                data.decode(cs or "latin-1", "replace").encode("utf-8", "surrogateescape")
                if isinstance(data, bytes)
                else data.encode("utf-8", "surrogateescape")
                for data, cs in parts
            )
        except Exception:  # not decodable: hash it as it came
            pass
    return b" ".join(value.split())


def _decoded(body: bytes, encoding: bytes, text: bool) -> bytes:
    """A leaf's content without its transfer encoding; text with line ends and trailing blanks
    normalised (quoted-printable and relays disagree on both; binary content is kept exact)."""
    try:
        if encoding == b"base64":
            body = binascii.a2b_base64(body)
        elif encoding == b"quoted-printable":
            body = binascii.a2b_qp(body)
    except (binascii.Error, ValueError):
        pass  # broken encoding: hash the bytes as they came
    if not text:
        return body
    body = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if b" \n" in body or b"\t\n" in body:
        body = b"\n".join([line.rstrip(b" \t") for line in body.split(b"\n")])
    return body.rstrip()


def _parts(body: bytes, boundary: bytes) -> list[bytes]:
    """The parts of a multipart body (preamble and epilogue dropped; a missing end tolerated).

    A delimiter is ``--boundary`` at the start of a line; found with ``bytes.find`` (a regex
    compiled per boundary cost milliseconds per message and seconds per 25 MiB).
    """
    marker = b"--" + boundary
    parts: list[bytes] = []
    start: int | None = None
    pos = 0
    while len(parts) < MAX_PARTS:
        at = body.find(marker, pos)
        if at < 0:
            break
        pos = at + len(marker)
        if at > 0 and body[at - 1 : at] != b"\n":
            continue  # not at the start of a line
        eol = body.find(b"\n", pos)
        rest = body[pos : eol if eol >= 0 else len(body)]
        closing = rest.startswith(b"--")
        if rest.strip(b" \t\r-" if closing else b" \t\r"):
            continue  # "--boundary" followed by more text: not a delimiter line
        if start is not None:
            end = at - 1
            if end > start and body[end - 1 : end] == b"\r":
                end -= 1
            parts.append(body[start : max(end, start)])
        if closing:
            return parts
        start = eol + 1 if eol >= 0 else len(body)
        pos = start
    if start is not None and len(parts) < MAX_PARTS:
        parts.append(body[start:])
    return parts


def _split_part(part: bytes) -> tuple[bytes, bytes]:
    """A part's headers and body; a part opening with a blank line has no headers."""
    for blank in (b"\r\n", b"\n"):
        if part.startswith(blank):
            return b"", part[len(blank) :]
    return split_head(part)


def _content(
    head: bytes, body: bytes, digest: hashlib._Hash, depth: int, fields: dict[bytes, bytes] | None = None
) -> None:
    """Feed each MIME leaf's media type and decoded content to ``digest``, depth-first."""
    if fields is None:
        fields = header_fields(head, _MIME)
    ctype = fields.get(b"content-type", b"text/plain")
    media = ctype.split(b";", 1)[0].strip().lower() or b"text/plain"
    if media.startswith(b"multipart/") and depth < MAX_DEPTH:
        m = _BOUNDARY.search(ctype)
        if m is not None:
            for part in _parts(body, m.group(1) or m.group(2)):
                _content(*_split_part(part), digest, depth + 1)
            return
    encoding = fields.get(b"content-transfer-encoding", b"").strip().lower()
    content = _decoded(body, encoding, text=media.startswith((b"text/", b"message/")))
    if media in (b"message/rfc822", b"message/global") and depth < MAX_DEPTH:
        inner_head, inner_body = split_head(content)
        for name, value in sorted(header_fields(inner_head).items()):
            digest.update(name + b"\0" + _header_text(value) + b"\0")
        _content(inner_head, inner_body, digest, depth + 1)
        return
    digest.update(media + b"\0" + hashlib.sha256(content).digest())


def dedup_key(raw: bytes) -> tuple[str, str | None]:
    """(key, Message-ID) for ``raw``; the key is at most 80 characters. Never raises."""
    head, body = split_head(raw)
    fields = header_fields(head, _KEYED + _MIME)
    digest = hashlib.sha256()
    for name in _KEYED:
        digest.update(name + b"\0" + _header_text(fields.get(name, b"")) + b"\0")
    try:
        _content(head, body, digest, 0, fields)
    except Exception:  # never expected (bounded, C decoders); the key must exist whatever the input
        digest.update(body)
    checksum = digest.hexdigest()[:40]
    message_id = fields.get(b"message-id", b"").decode("utf-8", "replace").strip() or None
    if message_id:
        mid_hash = hashlib.sha256(message_id.encode()).hexdigest()[:32]
        return f"m2:{mid_hash}:{checksum}", message_id[:998]
    return f"x2:{checksum}", None
