"""The dedup key of a raw message: Message-ID plus a checksum of what the sender wrote.

A redelivery adds ``Received:`` and other trace headers, so only the originator headers
(From, Date, Subject, In-Reply-To, Message-ID) and the body are hashed. Messages without a
Message-ID get a deterministic key from the same checksum. Cheap: a byte scan, no MIME parsing.
"""

from __future__ import annotations

import hashlib
import re

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_KEYED = (b"from", b"date", b"subject", b"in-reply-to", b"message-id")
_MAX_HEADER_SCAN = 256 * 1024


def split_head(raw: bytes) -> tuple[bytes, bytes]:
    """Header block and body (the body is empty when there is no blank line)."""
    m = _HEADER_END.search(raw, 0, _MAX_HEADER_SCAN)
    if m is None:
        return raw[:_MAX_HEADER_SCAN], b""
    return raw[: m.start()], raw[m.end() :]


def header_fields(head: bytes) -> dict[bytes, bytes]:
    """First value of each keyed header, unfolded, whitespace-normalised (lower-case names)."""
    fields: dict[bytes, bytes] = {}
    name: bytes | None = None
    value: list[bytes] = []
    for line in head.splitlines():
        if line[:1] in (b" ", b"\t") and name is not None:
            value.append(line.strip())
            continue
        if name is not None and name in _KEYED and name not in fields:
            fields[name] = b" ".join(value)
        key, sep, rest = line.partition(b":")
        name = key.strip().lower() if sep else None
        value = [rest.strip()]
    if name is not None and name in _KEYED and name not in fields:
        fields[name] = b" ".join(value)
    return fields


def dedup_key(raw: bytes) -> tuple[str, str | None]:
    """(key, Message-ID) for ``raw``; the key is at most 80 characters."""
    head, body = split_head(raw)
    fields = header_fields(head)
    digest = hashlib.sha256()
    for name in _KEYED:
        digest.update(name + b"\0" + b" ".join(fields.get(name, b"").split()) + b"\0")
    digest.update(body.replace(b"\r\n", b"\n").rstrip())
    checksum = digest.hexdigest()[:40]
    message_id = fields.get(b"message-id", b"").decode("utf-8", "replace").strip() or None
    if message_id:
        mid_hash = hashlib.sha256(message_id.encode()).hexdigest()[:32]
        return f"m:{mid_hash}:{checksum}", message_id[:998]
    return f"x:{checksum}", None
