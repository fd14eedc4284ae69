"""A trained classifier beside the rules (issue 17): featuriser, numpy scorer, combination.

Scoring needs numpy only; fitting (``feedback.classify.model.train``) needs scikit-learn and is
never imported by the worker.
"""

from __future__ import annotations

from collections.abc import Sequence

from feedback.classify.classification import ClassificationResult
from feedback.classify.classifier import classify
from feedback.classify.learning import LearnedExamples
from feedback.classify.model.combine import combine, knows
from feedback.classify.model.review_flag import ReviewStack
from feedback.classify.model.scorer import ClassifierModel, Scores, shipped_model
from feedback.core.competitor_list import Competitor
from feedback.core.taxonomy import Taxonomy

__all__ = ["ClassifierModel", "Scores", "classify_with_model", "shipped_model"]


def classify_with_model(
    text: str,
    *,
    kind: str,
    taxonomy: Taxonomy,
    model: ClassifierModel | None,
    competitors: Sequence[Competitor] = (),
    learned: LearnedExamples | None = None,
    people: Sequence[str] = (),
) -> ClassificationResult:
    """The rules' result, combined with ``model``'s reading when there is a model for ``kind``.

    A reply a reviewer already corrected word for word keeps its corrected labels; a kind or a code
    the model does not know is left to the rules.
    """
    rules = classify(
        text, kind=kind, taxonomy=taxonomy, competitors=competitors, learned=learned, people=people
    )
    if model is None or (learned is not None and learned.examples and learned.recall(text, kind=kind)):
        return rules
    if not knows(model, kind, rules):
        note = "the model does not know this kind's codes: rules only"
        return rules if model.kinds.get(kind) is None else _noted(rules, note)
    scores = model.score(text, kind=kind, rules=rules)
    if scores is None:
        return rules
    kt = taxonomy.kind(kind)
    settings = {**model.meta.get("combine", {}).get("*", {}), **model.meta.get("combine", {}).get(kind, {})}
    stack = ReviewStack.from_meta(model.meta.get("review_stack"))
    return combine(rules, scores, kt, settings=settings, stack=stack)


def _noted(result: ClassificationResult, note: str) -> ClassificationResult:
    from dataclasses import replace

    return replace(result, explanation=(*result.explanation, note))
