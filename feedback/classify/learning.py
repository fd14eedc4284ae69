"""Corrections made in review, as labelled examples the classifier may use (explicit input)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class LearnedExample:
    kind: str
    text: str
    outcome: str | None
    reasons: tuple[str, ...]
    competitor: str | None = None


@dataclass(frozen=True, slots=True)
class LearnedExamples:
    """Immutable bag of corrections; build once per worker start / CLI call."""

    examples: tuple[LearnedExample, ...] = field(default_factory=tuple)
