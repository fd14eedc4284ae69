"""Turning reply text into an outcome, reasons and a competitor: pure functions, no I/O.

Owned by the classification work (issue 4).
"""

from feedback.classify.classification import ClassificationResult
from feedback.classify.classifier import classify
from feedback.classify.learning import LearnedExample, LearnedExamples

__all__ = ["ClassificationResult", "LearnedExample", "LearnedExamples", "classify"]
