"""Placeholder classifier; the classification work replaces it."""

from __future__ import annotations

import re
from collections.abc import Sequence

from feedback.classify.learning import LearnedExamples
from feedback.classify.result import ClassificationResult
from feedback.competitors import Competitor
from feedback.taxonomy import Taxonomy


def classify(
    text: str,
    *,
    kind: str,
    taxonomy: Taxonomy,
    competitors: Sequence[Competitor] = (),
    learned: LearnedExamples | None = None,
) -> ClassificationResult:
    """Outcome, reasons and competitor stated in ``text`` (the reply only, never the quote)."""
    kt = taxonomy.kind(kind)
    low = text.lower()
    reasons: list[str] = []
    m = re.search(r"(?<![\d.])#?(\d{1,2})(?!\d)", low)
    if m and (opt := kt.option(int(m.group(1)))) is not None:
        reasons.append(opt.reason)
    for outcome in kt.outcomes:
        for reason in outcome.reasons:
            if reason.code not in reasons and reason.label.lower() in low:
                reasons.append(reason.code)
    outcome_code = kt.reason_outcome[reasons[0]] if reasons else None
    if outcome_code is None:
        outcome_code = next((o.code for o in kt.outcomes if o.code.replace("_", " ") in low), None)
    competitor = None
    for comp in competitors:
        if any(a.lower() in low for a in (comp.name, *comp.aliases)):
            competitor = comp.name
            break
    return ClassificationResult(
        outcome=outcome_code,
        reasons=tuple(reasons),
        competitor=competitor,
        confidence=0.8 if outcome_code else 0.2,
        needs_review=False,
    )
