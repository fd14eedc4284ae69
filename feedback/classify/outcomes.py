"""The stated outcome: votes from outcome words and hints, with self-corrections applied.

A plain outcome word ("Lost", "rejected") weighs 2, a hint ("they chose us") 1. Two outcomes of
similar weight mean the rep has not decided (outcome None, review); a clear winner is kept, but a
person is asked to look. A sentence that opens with a correction marker ("Actually scratch that",
"Wait, sorry - wrong deal") drops what was said before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from feedback.classify import markers
from feedback.classify.matching import Hit


@dataclass(frozen=True, slots=True)
class OutcomeVote:
    outcome: str | None
    conflict: bool  # more than one outcome stated
    undecided: bool  # ... with no clear winner
    from_hint_only: bool


def is_content(hit: Hit) -> bool:
    return hit.has("outcome") or hit.has("hint") or hit.has("reason")


def apply_corrections(
    hits: Sequence[Hit], words: Sequence[str], sentence: Sequence[int], first_word: Sequence[bool]
) -> tuple[list[Hit], list[Hit]]:
    """(hits left after the last correction, content hits it replaced)."""
    content = [k for k, h in enumerate(hits) if is_content(h) and not h.negated]
    if not content:
        return list(hits), []
    first, last = content[0], content[-1]
    cut = -1
    for k, hit in enumerate(hits):
        if (
            first < k < last
            and hit.has("correction")
            and _opens_sentence(hit.start, words, sentence, first_word)
        ):
            cut = k
    if cut < 0:
        return list(hits), []
    # the correction replaces what it restates: a new outcome replaces the old one, new reasons
    # replace the old reasons ("Lost to X on price. Correction: on features" keeps "Lost")
    after = list(hits[cut + 1 :])
    restated_outcome = any((h.has("outcome") or h.has("hint")) and not h.negated for h in after)
    restated_reasons = any(h.has("reason") and not h.negated for h in after)
    kept: list[Hit] = []
    dropped: list[Hit] = []
    for h in hits[:cut]:
        if not is_content(h):
            continue
        is_outcome = h.has("outcome") or h.has("hint")
        if (is_outcome and restated_outcome) or (h.has("reason") and not is_outcome and restated_reasons):
            if not h.negated:
                dropped.append(h)
        else:
            kept.append(h)
    return kept + after, dropped


def _opens_sentence(
    start: int, words: Sequence[str], sentence: Sequence[int], first_word: Sequence[bool]
) -> bool:
    """The marker is the sentence's first word, or follows only interjections ("Actually, scratch that")."""
    j = start
    while j > 0 and not first_word[j]:
        j -= 1
        if sentence[j] != sentence[start]:
            return False
        if words[j].isalnum() and words[j] not in markers.INTERJECTIONS:
            return False
    return first_word[j]


def vote(hits: Sequence[Hit]) -> OutcomeVote:
    weights: dict[str, float] = {}
    plain: set[str] = set()
    for hit in hits:
        if hit.negated:
            continue
        for t in hit.targets:
            if t.type in ("outcome", "hint"):
                weights[t.code] = weights.get(t.code, 0.0) + t.weight
                if t.type == "outcome":
                    plain.add(t.code)
    if not weights:
        return OutcomeVote(None, False, False, False)
    ranked = sorted(weights.items(), key=lambda kv: -kv[1])
    top, top_w = ranked[0]
    if len(ranked) == 1:
        return OutcomeVote(top, False, False, top not in plain)
    second_w = ranked[1][1]
    if top_w >= 2 * second_w:
        # a hint against a plain word ("good lead ... recycle it") is not a contradiction
        return OutcomeVote(top, ranked[1][0] in plain, False, top not in plain)
    return OutcomeVote(None, True, True, False)
