"""Accuracy figures of labelled replies: outcome, primary reason, reason-set F1, review P/R."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Figures:
    n: int = 0
    outcome: int = 0
    primary: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    rv_tp: int = 0
    rv_fp: int = 0
    rv_fn: int = 0

    def add(
        self,
        gold_outcome: str | None,
        gold_reasons: tuple[str, ...] | list[str],
        gold_review: bool,
        outcome: str | None,
        reasons: tuple[str, ...] | list[str],
        review: bool,
    ) -> None:
        self.n += 1
        self.outcome += gold_outcome == outcome
        self.primary += tuple(gold_reasons[:1]) == tuple(reasons[:1])
        g, p = set(gold_reasons), set(reasons)
        self.tp += len(g & p)
        self.fp += len(p - g)
        self.fn += len(g - p)
        self.rv_tp += gold_review and review
        self.rv_fp += review and not gold_review
        self.rv_fn += gold_review and not review

    @property
    def outcome_acc(self) -> float:
        return self.outcome / self.n if self.n else 0.0

    @property
    def primary_acc(self) -> float:
        return self.primary / self.n if self.n else 0.0

    @property
    def f1(self) -> float:
        d = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / d if d else 1.0

    @property
    def review_precision(self) -> float | None:
        d = self.rv_tp + self.rv_fp
        return self.rv_tp / d if d else None

    @property
    def review_recall(self) -> float | None:
        d = self.rv_tp + self.rv_fn
        return self.rv_tp / d if d else None

    def as_dict(self) -> dict[str, float | int | None]:
        def r(x: float | None, k: int = 4) -> float | None:
            return None if x is None else round(x, k)

        return {
            "n": self.n,
            "outcome": r(self.outcome_acc),
            "primary": r(self.primary_acc),
            "reason_f1": r(self.f1),
            "review_precision": r(self.review_precision),
            "review_recall": r(self.review_recall),
        }
