"""Signed reply tokens: ``feedback+TOKEN@domain`` (or ``TOKEN@domain``).

A token is base32 (lower case, no padding) of the request id (5 bytes) followed by the first
8 bytes of an HMAC-SHA256 of that id under the service's secret: 21 characters, well under the
64-character local-part limit, unguessable (64-bit MAC) and verifiable without a database
lookup, so a tampered token is refused at RCPT time. Relays may change case: comparisons are
case-insensitive. Expiry is a property of the request (its ``expires_at``), checked on lookup.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable

_ID_BYTES = 5
_MAC_BYTES = 8
TOKEN_LENGTH = 21  # ceil((5 + 8) * 8 / 5)
# what a token-looking local part can be (also accepts foreign/older opaque tokens when plus-tagged)
_BARE_TOKEN = re.compile(r"^[a-z2-7]{16,32}$")


class TokenError(ValueError):
    """A token that is malformed or whose signature does not verify."""


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, b"feedback-token-v1:" + payload, hashlib.sha256).digest()[:_MAC_BYTES]


def make_token(request_id: int, secret: bytes) -> str:
    """The token for ``request_id``."""
    if not 0 < request_id < 2 ** (8 * _ID_BYTES):
        raise ValueError(f"request id {request_id} out of range")
    payload = request_id.to_bytes(_ID_BYTES, "big")
    raw = payload + _mac(secret, payload)
    return base64.b32encode(raw).decode("ascii").rstrip("=").lower()


def verify_token(token: str, secret: bytes) -> int:
    """The request id a token names; ``TokenError`` when it is malformed or tampered with."""
    tok = token.strip().upper()
    if len(tok) != TOKEN_LENGTH:
        raise TokenError("token has the wrong length")
    try:
        raw = base64.b32decode(tok + "=" * (-len(tok) % 8))
    except (binascii.Error, ValueError):
        raise TokenError("token is not base32") from None
    if base64.b32encode(raw).decode("ascii").rstrip("=") != tok:
        raise TokenError("token is not in canonical form")  # unused trailing bits were altered
    payload, mac = raw[:_ID_BYTES], raw[_ID_BYTES:]
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        raise TokenError("token signature does not verify")
    return int.from_bytes(payload, "big")


def token_from_address(address: str, *, local: str = "feedback", domain: str | None = None) -> str | None:
    """The token carried by one address: ``local+TOKEN@`` or a bare token-shaped local part.

    ``domain`` (when given) must match the address's domain, case-insensitively.
    """
    addr = address.strip().strip("<>").lower()
    if "@" not in addr:
        return None
    lpart, _, dom = addr.rpartition("@")
    if domain is not None and dom != domain.lower():
        return None
    base, plus, tag = lpart.partition("+")
    if plus:
        return tag if base == local.lower() and tag else None
    return lpart if _BARE_TOKEN.match(lpart) else None


def find_token(addresses: Iterable[str], *, local: str = "feedback", domain: str | None = None) -> str | None:
    """The first token found among ``addresses`` (envelope recipients, Delivered-To, To, Cc)."""
    for address in addresses:
        token = token_from_address(address, local=local, domain=domain)
        if token:
            return token
    return None


def reply_address(token: str, *, local: str, domain: str, plus_addressing: bool = True) -> str:
    """The address a rep replies to for ``token``."""
    return f"{local}+{token}@{domain}" if plus_addressing else f"{token}@{domain}"
