"""The review flag stacked on the model's whole reading, not on its review head alone.

The review head reads words; whether a careful reader would hesitate also shows in how the model
and the rules read the reply: an outcome the model is torn between, a primary reason it is unsure
of, the rules reading another outcome or primary reason, the rules' own notes (hedged,
contradicting, self-corrected), reasons the model finds that belong to another outcome than its
answer's (a won deal "lost on price"). A logistic regression over these numbers, fitted on the
folds' held-out replies (each scored by a model that never saw its writer: ``train``), gives the
probability the review flag is set from. Measured by leaving a group of writers out over the
thirty-four training writers: the head alone 36 % precision at 85 % recall, the stack 38.7 % at
86.3 %; on the new TEST-B writers 38.9 % / 82.8 % against the seventh version's head at its
threshold, 42.2 % / 79.0 % (docs/classification.md, "Eighth version"); the ninth version (38
writers) on the newer TEST-C writers 43.3 % / 92.4 % ("Ninth version"); the tenth (42 writers) on
TEST-D 42.5 % / 78.5 % ("Tenth version").

Scoring is plain Python: twenty numbers, a dot product, a sigmoid.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from feedback.classify.classification import ClassificationResult
from feedback.classify.model.features import rule_features
from feedback.classify.model.scorer import Scores
from feedback.core.taxonomy import KindTaxonomy

# the rules' notes the stack reads (``features.rule_features`` names)
_RULE_FLAGS = (
    "r|review",
    "r|conflict",
    "r|contradicts",
    "r|ambiguous",
    "r|undecided",
    "r|hedged",
    "r|corrected",
    "r|number_disagrees",
)
FEATURES: tuple[str, ...] = (
    "head_logit",
    "outcome_margin",
    "outcome_entropy",
    "outcome_second",
    "primary_margin",
    "primary_entropy",
    "answer_confidence",
    "rules_other_outcome",
    "rules_other_primary",
    "rules_confidence",
    "several_reasons",
    "no_outcome",
    "reasons_above_0.3",
    "other_outcome_reason",
    "rules_cross_outcome",
    *(f"rules_{flag[2:]}" for flag in _RULE_FLAGS),
)


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1.0 - 1e-6)
    return math.log(p / (1.0 - p))


def _top_two(probs: Mapping[str, float]) -> tuple[float, float]:
    """The two largest probabilities (0 for a missing one)."""
    top = [*sorted(probs.values(), reverse=True)[:2], 0.0, 0.0]
    return top[0], top[1]


def _entropy(probs: Mapping[str, float]) -> float:
    return -sum(p * math.log(p) for p in probs.values() if p > 0.0)


class Answer(Protocol):
    """The model's answer (``combine.ModelAnswer``)."""

    @property
    def outcome(self) -> str | None: ...
    @property
    def reasons(self) -> tuple[str, ...]: ...
    @property
    def confidence(self) -> float: ...


def review_features(
    rules: ClassificationResult, scores: Scores, kt: KindTaxonomy, answer: Answer
) -> list[float]:
    """The numbers the stack reads, in ``FEATURES`` order, given the model's answer."""
    outcome, reasons, confidence = answer.outcome, answer.reasons, answer.confidence
    rules_primary = rules.reasons[0] if rules.reasons else None
    primary = reasons[0] if reasons else None
    flags = set(rule_features(rules))
    other_outcome_reason = max(
        (p for code, p in scores.reasons.items() if kt.reason_outcome.get(code) != outcome), default=0.0
    )
    o1, o2 = _top_two(scores.outcome)
    p1, p2 = _top_two(scores.primary)
    return [
        _logit(scores.review),
        o1 - o2,
        _entropy(scores.outcome),
        o2,
        p1 - p2,
        _entropy(scores.primary),
        confidence,
        float(rules.outcome != outcome),
        float(rules_primary != primary),
        rules.confidence,
        float(len(reasons) > 1),
        float(outcome is None),
        float(sum(1 for p in scores.reasons.values() if p > 0.3)),
        other_outcome_reason,
        float(any(kt.reason_outcome.get(code) != rules.outcome for code in rules.reasons)),
        *(float(flag in flags) for flag in _RULE_FLAGS),
    ]


@dataclass(frozen=True, slots=True)
class ReviewStack:
    """A fitted logistic regression over ``FEATURES`` (standardised by ``mean`` and ``scale``)."""

    coef: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]

    def probability(self, features: Sequence[float]) -> float:
        z = self.bias + sum(
            c * (x - m) / s for c, x, m, s in zip(self.coef, features, self.mean, self.scale, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-min(max(z, -500.0), 500.0)))

    def to_meta(self) -> dict[str, Any]:
        return {
            "features": list(FEATURES),
            "coef": list(self.coef),
            "bias": self.bias,
            "mean": list(self.mean),
            "scale": list(self.scale),
        }

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any] | None) -> ReviewStack | None:
        """The stack a model file carries; ``None`` for a file without one, or one fitted on
        other features (an older or newer version: its review head decides alone)."""
        if not meta or tuple(meta.get("features", ())) != FEATURES:
            return None
        return cls(
            coef=tuple(float(x) for x in meta["coef"]),
            bias=float(meta["bias"]),
            mean=tuple(float(x) for x in meta["mean"]),
            scale=tuple(float(x) for x in meta["scale"]),
        )
