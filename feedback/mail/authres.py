"""The sender-authentication verdict of our own MTA's Authentication-Results (RFC 8601), pure.

DMARC decides when the MTA evaluated it; else a DKIM pass whose signing domain is aligned with
the From domain; else an SPF pass whose MAIL FROM domain is aligned. Alignment is relaxed (the
same domain or one a subdomain of the other), as DMARC's default. The *basis* of a pass ("dmarc",
"dkim:example.com", "spf:example.com") names the path a message was authenticated by, so a
second answer arriving by another path can be told apart from the first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Verdict = Literal["pass", "fail", "none"]
_METHOD = re.compile(r"\b(dmarc|dkim|spf)\s*=\s*([a-z]+)([^;]*)", re.IGNORECASE)
_PROP = re.compile(
    r"\b(header\.d|header\.i|header\.from|smtp\.mailfrom|smtp\.helo)\s*=\s*([^\s;()]+)", re.IGNORECASE
)


@dataclass(frozen=True)
class AuthVerdict:
    verdict: Verdict
    basis: str  # how it passed or failed: "dmarc", "dkim:<domain>", "spf:<domain>", "" for none


def _domain(value: str) -> str:
    return value.rsplit("@", 1)[-1].strip().strip(".").lower()


def aligned(a: str, b: str) -> bool:
    a, b = a.lower(), b.lower()
    return bool(a and b) and (a == b or a.endswith("." + b) or b.endswith("." + a))


def verdict(auth_results: str | None, from_addr: str | None) -> AuthVerdict:
    """What our MTA said about the sender of a message From ``from_addr``."""
    if not auth_results or not from_addr:
        return AuthVerdict("none", "")
    from_domain = _domain(from_addr)
    results: dict[str, list[tuple[str, dict[str, str]]]] = {"dmarc": [], "dkim": [], "spf": []}
    for method, result, rest in _METHOD.findall(auth_results):
        props = {k.lower(): _domain(v) for k, v in _PROP.findall(rest)}
        results[method.lower()].append((result.lower(), props))
    for result, _ in results["dmarc"]:
        if result == "pass":
            return AuthVerdict("pass", "dmarc")
        if result in {"fail", "quarantine", "reject"}:
            return AuthVerdict("fail", "dmarc")
    for result, props in results["dkim"]:
        signer = props.get("header.d") or props.get("header.i", "")
        if result == "pass" and aligned(signer, from_domain):
            return AuthVerdict("pass", f"dkim:{signer}")
    for result, props in results["spf"]:
        envelope = props.get("smtp.mailfrom") or props.get("smtp.helo", "")
        if result == "pass" and aligned(envelope, from_domain):
            return AuthVerdict("pass", f"spf:{envelope}")
    failed = [r for m in ("dkim", "spf") for r, _ in results[m] if r in {"fail", "softfail", "permerror"}]
    passed_unaligned = [r for m in ("dkim", "spf") for r, _ in results[m] if r == "pass"]
    if failed or passed_unaligned:
        return AuthVerdict("fail", "unaligned" if passed_unaligned and not failed else "dkim/spf")
    return AuthVerdict("none", "")
