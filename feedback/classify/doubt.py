"""Doubt: hedges, questions and the confidence figure.

Confidence is a rough calibration of how often a reply of this shape is classified right: a plain
outcome word with a reason is high, a reason alone (outcome implied) a little lower, a bare option
number lower still, nothing at all low; each repaired typo and any reason to doubt lowers it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from feedback.classify import markers
from feedback.classify.matching import Hit
from feedback.classify.normalise import WORD, Tokens
from feedback.classify.outcomes import is_content


@dataclass(frozen=True, slots=True)
class Hedges:
    global_hedge: bool  # "not sure", "hard to say": doubt about the whole answer
    local_hedge: bool  # "I think", "maybe" in the sentence of an outcome, next to a reason, or a question


def find_hedges(hits: Sequence[Hit], tokens: Tokens) -> Hedges:
    questions = {tokens.sentence[i] - 1 for i, w in enumerate(tokens.words) if w == "?"}
    if questions:  # "Can you mark it as lost?" asks for an action, it does not doubt the answer
        questions -= _requests(tokens)
    content_sentences = {h.sentence for h in hits if is_content(h) and not h.negated}
    outcome_sentences = {h.sentence for h in hits if (h.has("outcome") or h.has("hint")) and not h.negated}
    reasons: dict[int, list[Hit]] = {}  # by clause: a hedge only looks at its own clause
    for h in hits:
        if h.has("reason") and not h.negated:
            reasons.setdefault(h.clause, []).append(h)
    global_hedge = any(h.has("global_hedge") and not h.negated for h in hits)
    local = any(
        h.has("local_hedge")
        and (h.sentence in outcome_sentences or any(_near(h, r) for r in reasons.get(h.clause, ())))
        for h in hits
    )
    local = local or bool(questions & content_sentences)
    return Hedges(global_hedge, local)


def _requests(tokens: Tokens) -> set[int]:
    """Sentences that open like a request ("can you", "could you", "please")."""
    out: set[int] = set()
    prev_sentence = -1
    words, kinds = tokens.words, tokens.kinds
    for i, w in enumerate(words):
        if kinds[i] != WORD or tokens.sentence[i] == prev_sentence:
            continue
        prev_sentence = tokens.sentence[i]
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if w in markers.REQUEST_OPENERS or f"{w} {nxt}" in markers.REQUEST_OPENERS:
            out.add(tokens.sentence[i])
    return out


def _near(a: Hit, b: Hit) -> bool:
    gap = a.start - b.end if a.start >= b.end else b.start - a.end
    return a.clause == b.clause and gap <= markers.HEDGE_REACH


def confidence(
    *,
    outcome: str | None,
    reasons: int,
    explicit: bool,
    from_hint_only: bool,
    from_number: bool,
    number_agrees: bool,
    repaired: int,
    needs_review: bool,
) -> float:
    if outcome is None and not reasons:
        value = 0.3 if needs_review else 0.1
    elif from_number:  # only an option number: fine when typed on purpose, but numbers are cheap
        value = 0.6
    elif explicit:
        value = 0.92 if reasons else 0.8
    else:
        value = 0.75 if reasons else 0.6
    if from_hint_only:
        value -= 0.15
    if number_agrees:
        value += 0.05
    value -= min(0.15, 0.05 * repaired)
    if needs_review:
        value = min(value, 0.45)
    return round(max(0.0, min(1.0, value)), 3)
