"""The classifier's result type."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ClassificationResult:
    outcome: str | None  # one of the kind's outcome codes, or None when the reply does not say
    reasons: tuple[str, ...]  # reason codes, primary first
    competitor: str | None  # canonical configured name, or an unlisted name as written
    confidence: float  # in [0, 1]
    needs_review: bool  # ambiguous or self-contradicting: a person must look
    explanation: tuple[str, ...] = ()  # short notes on what decided it (for review screens)
    # the competitor is a configured one; an unlisted name is reviewed the first time it is stored
    competitor_listed: bool = False
