"""The classifier: a rep's own words -> outcome, reasons, competitor, confidence, review flag.

Pure and cheap: the lexicon is compiled once per taxonomy fingerprint and kind, so a call only
folds, tokenises and walks the reply once. The steps are separate modules (normalise, matching,
outcomes, reasons, numbers, competitors, doubt, learning); this one only composes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from feedback.classify import markers
from feedback.classify.classification import ClassificationResult
from feedback.classify.competitors import find_competitor, matcher_for
from feedback.classify.cue_lexicon import lexicon_for
from feedback.classify.doubt import confidence, find_hedges
from feedback.classify.learning import LearnedExamples
from feedback.classify.matching import find_hits
from feedback.classify.normalise import WORD, fold, tokenize
from feedback.classify.numbers import option_numbers
from feedback.classify.outcomes import apply_corrections, is_content, vote
from feedback.classify.people import known_people
from feedback.classify.reasons import pick_reasons
from feedback.classify.rivals import (
    drop_name_cues,
    mark_rivals,
    rival_chosen,
    rival_name_words,
    rival_wins,
)
from feedback.core.competitor_list import Competitor
from feedback.core.taxonomy import Taxonomy

MAX_CHARS = 20_000


def classify(
    text: str,
    *,
    kind: str,
    taxonomy: Taxonomy,
    competitors: Sequence[Competitor] = (),
    learned: LearnedExamples | None = None,
    people: Sequence[str] = (),
) -> ClassificationResult:
    """Outcome, reasons and competitor stated in ``text`` (the reply only, never the quote).

    ``learned`` (corrections from review) is an explicit input so benchmarks can run without it;
    ``people`` (the reps' names) are colleagues a reply may name, never competitors.
    """
    kt = taxonomy.kind(kind)
    lex = lexicon_for(taxonomy, kind)
    comps = tuple(competitors)
    if learned is not None and learned.examples:
        remembered = learned.recall(text, kind=kind)
        if remembered is not None:
            return replace(remembered, competitor_listed=_listed(remembered.competitor, comps))
        lex = learned.lexicon(taxonomy, kind, lex)
        comps = comps + learned.competitors(kind, comps)

    notes: list[str] = []
    if len(text) > MAX_CHARS:  # a reply is a few sentences; bound the work on anything else
        text = text[:MAX_CHARS]
        notes.append(f"only the first {MAX_CHARS} characters were read")
    folded = fold(text)
    tokens = tokenize(folded)
    matches = find_hits(tokens, lex)
    notes.extend(f"read {typed!r} as {fixed!r}" for typed, fixed in matches.repaired)

    words = [w for w, k in zip(tokens.words, tokens.kinds, strict=True) if k == WORD]
    competitor, how, choice, typed = find_competitor(
        text, folded, words, matcher=matcher_for(comps), lex=lex, people=known_people(tuple(people))
    )
    lost = kt.reason_outcome.get(markers.LOST_TO_RIVAL)
    name_words = rival_name_words(typed or competitor, comps)  # "Contosso won" is a rival's win
    all_hits = drop_name_cues(matches.hits, tokens, name_words)
    all_hits = mark_rivals(all_hits, tokens, name_words)
    if lost is not None and kt.outcome_codes and lost != kt.outcome_codes[0]:
        if choice == "rival":  # "went to Woodgrove", "Sisense got it": the buyer chose the rival
            all_hits = rival_chosen(all_hits, tokens, lost=lost, lost_reason=markers.LOST_TO_RIVAL)
        all_hits = rival_wins(
            all_hits,
            tokens,
            name_words,
            positive=kt.outcome_codes[0],
            lost=lost,
            lost_reason=markers.LOST_TO_RIVAL,
        )
    # "they picked Monday for the kickoff" chose no competitor; "they picked us over X" chose us
    if competitor is None or choice == "us":
        all_hits = tuple(h for h in all_hits if h.phrase not in markers.CHOICE_PHRASES)

    hits, replaced = apply_corrections(all_hits, tokens.words, tokens.sentence, matches.first_word)
    review = False
    if replaced:
        notes.append("self-correction: earlier statement replaced")
        review = True

    voted = vote(hits)
    picked = pick_reasons(hits, voted.outcome, lex)
    outcome = voted.outcome if voted.outcome is not None else (picked.anchor if picked.reasons else None)
    reasons = picked.reasons
    if voted.conflict:
        notes.append("more than one outcome stated")
        review = True
    if picked.contradicts:
        notes.append("a reason belongs to another outcome than the one stated")
        review = True
    if picked.ambiguous_only and voted.outcome is None:
        notes.append("the reason fits several outcomes")
        review = True

    hedges = find_hedges(hits, tokens)
    said_something = any(is_content(h) for h in hits)  # negated cues count: "haven't signed"
    # a hedge with no plain outcome is undecided, even alone ("could be good, could be nothing")
    undecided = voted.undecided or (hedges.global_hedge and voted.outcome is None)
    if undecided:
        notes.append("undecided: the reply does not commit to an outcome")
        outcome, reasons, review = None, (), True
    elif (hedges.global_hedge and said_something) or hedges.local_hedge:
        notes.append("hedged or asked back next to the answer")
        review = True

    numbers = option_numbers(text, len(kt.options))
    from_number = number_agrees = False
    if numbers:
        opts = [o for n in numbers if (o := kt.option(n)) is not None]
        num_reasons = tuple(dict.fromkeys(o.reason for o in opts))
        if outcome is None and not reasons and not undecided:
            outcome, reasons, from_number = opts[0].outcome, num_reasons, True
            if len({o.outcome for o in opts}) > 1:
                notes.append("option numbers of different outcomes")
                review = True
            notes.append(f"option number(s) {numbers}")
        elif outcome is not None:
            agrees = all(o.reason in reasons or (not reasons and o.outcome == outcome) for o in opts)
            if agrees:
                number_agrees = True
                reasons = reasons + tuple(r for r in num_reasons if r not in reasons)
            else:
                notes.append(f"option number(s) {numbers} disagree with the words; the words win")
                review = True

    if how:
        notes.append(how)
    if outcome is not None:
        notes.insert(0, f"outcome {outcome}" + (f", reasons {', '.join(reasons)}" if reasons else ""))

    return ClassificationResult(
        outcome=outcome,
        reasons=tuple(reasons),
        competitor=competitor,
        competitor_listed=_listed(competitor, tuple(competitors)),
        confidence=confidence(
            outcome=outcome,
            reasons=len(reasons),
            explicit=voted.outcome is not None,
            from_hint_only=voted.from_hint_only,
            from_number=from_number,
            number_agrees=number_agrees,
            repaired=len(matches.repaired),
            needs_review=review,
        ),
        needs_review=review,
        explanation=tuple(notes),
    )


def _listed(competitor: str | None, configured: tuple[Competitor, ...]) -> bool:
    """Whether ``competitor`` is a configured name (not one a reply or a reviewer introduced)."""
    return competitor is not None and any(c.name == competitor for c in configured)
