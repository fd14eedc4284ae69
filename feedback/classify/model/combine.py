"""Rules and model together: a pure decision from the rules' result and the model's scores.

Decided by leaving one writer out (the settings travel in the model file, ``meta["combine"]``):

- the model's answer (``model_answer``): the outcome and primary reason chosen together, a reason
  the primary and reasons heads agree on carrying its outcome (``answer_joint``,
  ``primary_reasons``; older versions: the most likely outcome, then its most likely primary
  reason), then every other reason of the outcome the reasons head gives ``reason_threshold``;
- rules and model agree (outcome and primary reason): that answer stands, the strongest case,
  with the rules' other reasons or the model's (``agree_model_reasons``);
- they disagree: the rules' answer stands when it is a confident one (confidence >=
  ``rules_trust``, no review), when the rules flagged it for review (hedged, conflicting: on dev
  data the rules were right there far more often than the model; ``model_on_review``), or when
  the model is less sure than ``model_min`` -- unless the model is surer of its own than
  ``model_override``; otherwise (the rules abstain or read an outcome without a reason) the
  model's answer is taken;
- a code the model does not know (a taxonomy extended or replaced since it was fitted) leaves the
  decision to the rules, and a model code the taxonomy no longer has is never given;
- ``needs_review``: with a review stack in the model file (``review_flag.ReviewStack``), its probability
  from the model's and the rules' whole reading at or above ``review_threshold``; without one, the
  review head's probability, plus ``review_mix`` x (1 - the confidence of the answer given), plus
  ``review_rules`` when the rules flagged it, at or above ``review_threshold``.

The competitor always comes from the rules (and the configured list).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from feedback.classify.classification import ClassificationResult
from feedback.classify.model.review_flag import ReviewStack, review_features
from feedback.classify.model.scorer import NONE, ClassifierModel, Scores
from feedback.core.taxonomy import KindTaxonomy

DEFAULTS = {
    "rules_trust": 0.9,
    "model_override": 0.8,
    "model_min": 0.0,
    "model_on_review": 0.0,
    "review_rules": 0.0,
    "reason_threshold": 0.5,
    "review_threshold": 0.5,
    "review_mix": 0.0,
    "answer_joint": 0.0,
    "primary_reasons": 0.0,
    "agree_model_reasons": 0.0,
}


@dataclass(frozen=True, slots=True)
class ModelAnswer:
    outcome: str | None
    reasons: tuple[str, ...]
    confidence: float  # P(outcome) x P(primary reason | that outcome's reasons)


def model_answer(
    scores: Scores,
    kt: KindTaxonomy,
    *,
    reason_threshold: float = 0.5,
    settings: Mapping[str, float] | None = None,
) -> ModelAnswer:
    """The model's most likely answer within the kind's current taxonomy.

    With ``answer_joint`` (chosen by leaving one writer out) the outcome and the primary reason are
    chosen together: every pair (outcome o, reason r of o, or none) scores P(o) x (P(primary = r)
    + ``primary_reasons`` x P(r among the reasons)), and "no outcome" scores P(none) x P(primary =
    none); the best pair wins, so a reason the heads agree on carries its outcome. Without it, the
    most likely outcome first, then its most likely primary reason. The other reasons of the
    outcome are those the reasons head gives ``reason_threshold`` or more."""
    s = settings or {}
    threshold = s.get("reason_threshold", reason_threshold)
    joint = s.get("answer_joint", 0.0) >= 0.5
    mix = s.get("primary_reasons", 0.0)
    outcomes = {o: p for o, p in scores.outcome.items() if o == NONE or o in kt.outcome_codes}
    total = sum(outcomes.values()) or 1.0
    if not outcomes:
        return ModelAnswer(None, (), 0.0)
    top = max(outcomes, key=outcomes.__getitem__)
    best: tuple[float, str, str, float] | None = None  # (score, outcome, primary, confidence)
    for o, p in outcomes.items():
        if not joint and o != top:
            continue
        p_outcome = p / total
        if o == NONE:
            c = p_outcome * scores.primary.get(NONE, 1.0)
            if best is None or c > best[0]:
                best = (c, NONE, NONE, c)
            continue
        allowed = {r for r, oo in kt.reason_outcome.items() if oo == o}
        primary = {
            r: q + (mix * scores.reasons.get(r, 0.0) if r != NONE else 0.0)
            for r, q in scores.primary.items()
            if r == NONE or r in allowed
        }
        ptotal = sum(primary.values()) or 1.0
        first = max(primary, key=primary.__getitem__) if primary else NONE
        q = primary.get(first, 0.0)
        score = p_outcome * (q if joint else q / ptotal)
        if best is None or score > best[0]:
            best = (score, o, first, p_outcome * q / ptotal)
    assert best is not None
    _, outcome, first, confidence = best
    if outcome == NONE:
        return ModelAnswer(None, (), confidence)
    if first == NONE:
        return ModelAnswer(outcome, (), confidence)
    allowed = {r for r, o in kt.reason_outcome.items() if o == outcome}
    others = sorted(
        (r for r, p in scores.reasons.items() if r in allowed and r != first and p >= threshold),
        key=lambda r: -scores.reasons[r],
    )
    return ModelAnswer(outcome, (first, *others), confidence)


def knows(model: ClassifierModel, kind: str, rules: ClassificationResult) -> bool:
    """Whether the model has every code the rules gave (else the taxonomy changed under it)."""
    kw = model.kinds.get(kind)
    if kw is None:
        return False
    if rules.outcome is not None and rules.outcome not in kw.classes["outcome"]:
        return False
    return all(r in kw.classes["reasons"] or r in kw.classes["primary"] for r in rules.reasons)


def combine(
    rules: ClassificationResult,
    scores: Scores,
    kt: KindTaxonomy,
    *,
    settings: dict[str, float],
    stack: ReviewStack | None = None,
) -> ClassificationResult:
    """One result from the rules' reading and the model's scores (see the module doc)."""
    s = {**DEFAULTS, **settings}
    m = model_answer(scores, kt, settings=s)
    rules_primary = rules.reasons[0] if rules.reasons else None
    model_primary = m.reasons[0] if m.reasons else None
    agree = rules.outcome == m.outcome and rules_primary == model_primary
    trusted = rules.confidence >= s["rules_trust"] and not rules.needs_review
    # a reply the rules flagged (hedged, conflicting) is read by the rules unless dev data says otherwise
    held = rules.needs_review and not s["model_on_review"]
    read = _describe(m.outcome, m.reasons)
    if agree:  # the same outcome and primary reason; the other reasons from the rules or the model
        outcome, reasons, conf = rules.outcome, rules.reasons, m.confidence
        if s["agree_model_reasons"] >= 0.5:
            reasons = m.reasons
        note = f"rules and model agree (model p={m.confidence:.2f})"
        decided_by = "both"
    elif m.confidence < s["model_override"] and (trusted or held or m.confidence < s["model_min"]):
        outcome, reasons = rules.outcome, rules.reasons
        conf = _p_of(scores, kt, outcome, rules_primary)
        note = f"rules decided; the model read {read} (p={m.confidence:.2f})"
        decided_by = "rules"
    else:
        outcome, reasons, conf = m.outcome, m.reasons, m.confidence
        rules_read = _describe(rules.outcome, rules.reasons)
        note = f"model decided (p={m.confidence:.2f}); the rules read {rules_read}"
        decided_by = "model"
    if stack is not None:
        review_score = stack.probability(review_features(rules, scores, kt, m))
    else:
        review_score = scores.review + s["review_mix"] * (1.0 - conf) + s["review_rules"] * rules.needs_review
    needs_review = review_score >= s["review_threshold"]
    if decided_by != "both":
        conf *= 0.7  # disagreement: the first place a reviewer's correction teaches something
    confidence = round(min(conf, 0.45) if needs_review else conf, 3)
    notes = [n for n in rules.explanation if not n.startswith("outcome ")]
    head = f"outcome {outcome}" + (f", reasons {', '.join(reasons)}" if reasons else "")
    lead = [head] if outcome is not None else []
    review_note = [f"review: p={review_score:.2f} >= {s['review_threshold']:.2f}"] if needs_review else []
    if decided_by == "model":  # the rules' notes describe the reading that was not taken
        notes = [n for n in notes if _kept_note(n)]
    return replace(
        rules,
        outcome=outcome,
        reasons=tuple(reasons),
        confidence=confidence,
        needs_review=needs_review,
        explanation=(*lead, note, *review_note, *notes),
    )


def _kept_note(note: str) -> bool:
    """Rules' notes that stay true whoever decided (competitor, typo repairs, truncation)."""
    return note.startswith(("read ", "only the first", "competitor", "new competitor")) or "'" in note


def _p_of(scores: Scores, kt: KindTaxonomy, outcome: str | None, primary: str | None) -> float:
    """The model's probability of a given answer (outcome x primary reason within it)."""
    p_o = scores.outcome.get(outcome or NONE, 0.0)
    if outcome is None:
        return p_o
    allowed = {r for r, o in kt.reason_outcome.items() if o == outcome}
    primary_p = {r: p for r, p in scores.primary.items() if r == NONE or r in allowed}
    total = sum(primary_p.values()) or 1.0
    return p_o * primary_p.get(primary or NONE, 0.0) / total


def _describe(outcome: str | None, reasons: tuple[str, ...]) -> str:
    if outcome is None:
        return "no outcome"
    return outcome + (f" / {', '.join(reasons)}" if reasons else "")
