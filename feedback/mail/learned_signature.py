"""A sender's own signature, learned from their earlier messages (pure; issue 16 item 5).

The generic rules (``signature``) find a signature by its shape: ``-- ``, a sign-off, the
sender's name, contact lines, a disclaimer. A house signature with none of these (a company
slogan, an address, a legal line under the text) is found by recurrence instead: the lines that
end two of a sender's messages are that sender's signature.

* ``learn(previous, own_text)`` -> the sender's new ``LearnedSignature``. It keeps the hashed
  tails of the last few messages (never their text) and, once a new message that opens
  differently ends with the same two or more lines as one of them (or one line with a contact
  detail), those lines in clear: they were written under two different texts, so they are the
  signature, not an answer (the same answer pasted twice teaches nothing).
* ``strip_learned(body, signature, learned)`` moves a trailing run of learned lines from the
  reply to the signature, used after the generic rules (it only acts where they left such lines).

Never stripped: the first line of the sender's text (something must remain), a single line
without a contact detail ("No.", "Lost", an option copied from the request), or a reply that is
all learned lines (a reply that equals part of a signature).
The worker owns the storage (``feedback.services.processing``); this module does no I/O.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from feedback.mail.signature import is_client_footer

MAX_TAIL_LINES = 15  # lines of a message's end that may be signature
MAX_SAMPLES = 6  # hashed tails of the sender's recent messages kept to compare with
MAX_LEARNED_LINES = 40

_WS = re.compile(r"\s+")
_CONTACT = re.compile(r"\+?\d[\d ()./-]{6,}\d|@|https?://|www\.", re.IGNORECASE)


def normalise_line(line: str) -> str:
    """Compare form of a line: whitespace collapsed, case folded."""
    return _WS.sub(" ", line).strip().casefold()


def line_key(line: str) -> str:
    """A short hash of a line's compare form: what is kept of lines not (yet) known to recur."""
    return hashlib.sha256(normalise_line(line).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class LearnedSignature:
    """What is known of one sender's signature: its lines, and hashed tails to learn from."""

    lines: tuple[str, ...] = ()
    # per recent message, oldest first: the key of its first line, then the keys of its tail
    samples: tuple[tuple[str, ...], ...] = ()
    _known: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_known", frozenset(normalise_line(x) for x in self.lines if x.strip()))

    def knows(self, line: str) -> bool:
        return normalise_line(line) in self._known


def message_tail(own_text: str) -> list[str]:
    """The lines of a message that may be its signature: the last non-blank lines after the first
    (something must be said), client footers dropped (they vary with the device)."""
    lines = [x.strip() for x in own_text.split("\n") if x.strip()]
    return [x for x in lines[1:] if not is_client_footer(x)][-MAX_TAIL_LINES:]


def _common_suffix(a: list[str], b: tuple[str, ...]) -> int:
    n = 0
    while n < len(a) and n < len(b) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def _is_block(lines: list[str]) -> bool:
    """Whether recurring end lines are a signature: two or more, or one with a contact detail."""
    return len(lines) >= 2 or (len(lines) == 1 and bool(_CONTACT.search(lines[0])))


def learn(previous: LearnedSignature | None, own_text: str) -> LearnedSignature:
    """``previous`` updated with one more message of the sender's (their own text, quote removed)."""
    previous = previous or LearnedSignature()
    tail = message_tail(own_text)
    if not tail:
        return previous
    first = line_key(next(x for x in own_text.split("\n") if x.strip()))
    keys = [line_key(x) for x in tail]
    found: list[str] = []
    for sample in previous.samples:
        if not sample or sample[0] == first:
            continue  # the same answer pasted again says nothing about a signature
        n = _common_suffix(keys, sample[1:])
        if n > len(found):
            found = tail[-n:]
    lines = previous.lines
    if _is_block(found):
        new = {normalise_line(x) for x in found}
        lines = (*found, *(x for x in previous.lines if normalise_line(x) not in new))[:MAX_LEARNED_LINES]
    samples = (*previous.samples, (first, *keys))[-MAX_SAMPLES:]
    return LearnedSignature(lines=lines, samples=samples)


def strip_learned(
    body: str, signature: str | None, learned: LearnedSignature | None
) -> tuple[str, str | None]:
    """(body, signature) with a trailing run of the sender's learned signature lines moved over."""
    if learned is None or not learned.lines or not body.strip():
        return body, signature
    lines = body.split("\n")
    start = len(lines)
    run: list[str] = []
    for i in range(len(lines) - 1, -1, -1):
        s = lines[i].strip()
        if not s:
            continue
        if not learned.knows(s):
            break
        start = i
        run.append(s)
    if not run or not any(x.strip() for x in lines[:start]):
        return body, signature  # nothing learned at the end, or the reply is only learned lines
    if not _is_block(run):
        return body, signature  # one line alone may be the answer ("No.", "Lost", a copied option)
    block = "\n".join(lines[start:]).strip("\n")
    merged = "\n".join(p for p in (block, signature or "") if p.strip()).strip()
    return "\n".join(lines[:start]).strip(), merged or None


def learning_text(reply_text: str | None, signature: str | None) -> str:
    """The sender's own text as the parser split it (reply, then signature), for ``learn``."""
    return "\n".join(p for p in (reply_text or "", signature or "") if p.strip())
