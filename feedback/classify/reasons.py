"""Reasons in the order the rep gives them, primary first, fitted to the outcome.

- Order of mention, except that a reason right after an emphasis cue ("mainly", "main reason",
  "first and foremost") moves to the front.
- A reason the reply negates ("not price", "budget wasn't the issue") is not labelled, nor is a
  later mention of it ("It wasn't about price - we were more expensive than X").
- A cue shared by reasons of several outcomes ("price": won/price_value, lost/price) takes the one
  of the stated outcome; with no stated outcome, the first clear reason implies the outcome.
- Praise ("they liked the price") makes a reason only for the kind's positive (first) outcome,
  unless it is said of a rival ("their UI was nicer", see ``rivals``): then, on any other outcome,
  it reads against us.
- Fallback reasons ("working it", "competitor") and reasons named only by weak cues ("~check
  back" in the taxonomy) yield to any other reason of their outcome; with no outcome word, the
  positive outcome's fallback (activity, "spoke to them") does not pick the outcome over another
  reason.
- A reason of another outcome than the stated one is kept (and a person must look) when no reason
  of the stated outcome is given, or when it comes first and is named specifically (two or more
  words: "Recycled - existing customer, not responding"); otherwise it is context ("lost on
  price ... the POC was great", "they needed CPQ support and we lack it").
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

from feedback.classify.cue_lexicon import KindLexicon
from feedback.classify.matching import Hit


@dataclass(frozen=True, slots=True)
class ReasonPick:
    reasons: tuple[str, ...]
    anchor: str | None  # the outcome the reasons were fitted to
    contradicts: bool  # a kept reason belongs to another outcome than the stated one
    ambiguous_only: bool  # the outcome rests on a cue shared by several outcomes


def pick_reasons(hits: Sequence[Hit], outcome: str | None, lex: KindLexicon) -> ReasonPick:
    negated: set[str] = set()  # once the rep says "not price", later price words are context
    mentions: list[tuple[int, tuple[str, ...]]] = []  # (hit index, candidate codes)
    positive = lex.kind.outcomes[0].code if lex.kind.outcomes else None
    praised = {k for k, hit in enumerate(hits) if hit.praised}
    for k, hit in enumerate(hits):
        codes = hit.codes
        if not codes:
            continue
        if hit.negated:
            negated.update(codes)
        elif live := tuple(c for c in codes if c not in negated):
            mentions.append((k, live))
    promoted = _promoted(hits, [k for k, _ in mentions])
    mentions.sort(key=lambda kc: (kc[0] not in promoted, kc[0]))
    if not mentions:
        return ReasonPick((), outcome, False, False)

    ro = lex.reason_outcome
    anchor = outcome
    ambiguous_only = False
    rivals = {k: _rival_codes(codes, outcome, positive, lex) for k, codes in mentions if hits[k].rival}
    if anchor is None:
        read = [(k, rivals.get(k) or codes) for k, codes in mentions]
        clear = [
            (k, codes[0])
            for k, codes in read
            if len({ro[c] for c in codes}) == 1 and (k not in praised or rivals.get(k))
        ]
        # a weak cue ("~on hold") does not pick the outcome when a full cue is given, nor does the
        # positive outcome's fallback when another reason is: activity ("spoke to them", "working
        # it") is no verdict, "not our market" is
        firm = [c for k, c in clear if _full_weight(hits[k], c)]
        verdicts = [c for c in firm if not (c in lex.fallback and ro[c] == positive)]
        if clear:
            anchor = ro[(verdicts or firm or [c for _, c in clear])[0]]
        else:
            anchor = ro[mentions[0][1][0]]
            ambiguous_only = True

    if anchor != positive and rivals:  # the rival's strength is our weakness
        mentions = [(k, rivals.get(k) or codes) for k, codes in mentions]
        praised -= {k for k, codes in rivals.items() if codes}
    ordered: list[str] = []
    specific: set[str] = set()  # named by a phrase of two or more words ("existing customer")
    strong: set[str] = set()  # named by at least one full-weight cue (not only "~check back")
    for k, codes in mentions:
        if k in praised and anchor != positive:
            continue
        fit = [c for c in codes if ro[c] == anchor]
        code = fit[0] if fit else codes[0]
        if hits[k].size >= 2:
            specific.add(code)
        if _full_weight(hits[k], code) or (k in rivals and anchor != positive):  # a comparison is specific
            strong.add(code)
        if code not in ordered:
            ordered.append(code)

    yielding = lex.fallback | (set(ordered) - strong)  # give way to any other reason of their outcome
    same = [c for c in ordered if ro[c] == anchor]
    if any(c not in yielding for c in same):
        same = [c for c in same if c not in yielding]
    kept: list[str] = []
    contradicts = False
    if outcome is not None:
        first_same = ordered.index(same[0]) if same else len(ordered)
        for pos, code in enumerate(ordered):
            if ro[code] == anchor:
                if code in same:
                    kept.append(code)
            elif not same or (pos < first_same and code in specific and code not in yielding):
                kept.append(code)
                contradicts = True
    else:
        kept = same
    return ReasonPick(tuple(kept), anchor, contradicts, ambiguous_only)


def _rival_codes(
    codes: tuple[str, ...], outcome: str | None, positive: str | None, lex: KindLexicon
) -> tuple[str, ...]:
    """What a cue praised of a rival says against us: its non-positive readings, else the fallback
    reason of the stated outcome (of any non-positive outcome when none is stated)."""
    ro = lex.reason_outcome
    against = tuple(c for c in codes if ro[c] != positive)
    if against:
        return against
    return tuple(
        c for c in ro if c in lex.fallback and ro[c] != positive and (outcome is None or ro[c] == outcome)
    )


def _full_weight(hit: Hit, code: str) -> bool:
    return any(t.code == code and t.weight >= 1.0 for t in hit.targets)


def _promoted(hits: Sequence[Hit], reason_idx: list[int]) -> set[int]:
    """Reason hits an emphasis cue points at: the one before it in its clause, else the next one in
    its sentence, else the one before it in its sentence."""
    out: set[int] = set()
    for k, hit in enumerate(hits):
        if not hit.has("promoter") or hit.negated:
            continue
        pos = bisect_left(reason_idx, k)
        before = reason_idx[pos - 1] if pos > 0 else None
        after = reason_idx[pos] if pos < len(reason_idx) else None
        if before is not None and hits[before].clause == hit.clause:
            out.add(before)
        elif after is not None and hits[after].sentence == hit.sentence:
            out.add(after)
        elif before is not None and hits[before].sentence == hit.sentence:
            out.add(before)
    return out
