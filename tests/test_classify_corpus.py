"""Classifier accuracy over the corpus's gold reply_text (the classifier alone, no parser).

The figures asserted are the issue's targets; bench/classify_accuracy.py prints them in full.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from feedback.classify import classify
from feedback.core.competitor_list import Competitor
from feedback.core.taxonomy import default_taxonomy

CORPUS = Path(__file__).parent / "corpus" / "cases.jsonl"
COMPETITORS = (
    Competitor(name="Contoso Suite", aliases=("contoso",)),
    Competitor(name="Fabrikam Analytics", aliases=("fabrikam", "fab")),
    Competitor(name="Tailspin CRM", aliases=("tailspin",)),
    Competitor(name="Wingtip Data", aliases=("wingtip",)),
    Competitor(name="Litware Cloud", aliases=("litware",)),
)


def _replies() -> list[dict[str, Any]]:
    with open(CORPUS, encoding="utf-8") as f:
        cases = [json.loads(line) for line in f if line.strip()]
    return [c for c in cases if c["gold"]["classification"] == "reply"]


@pytest.fixture(scope="module")
def results() -> list[tuple[dict[str, Any], Any]]:
    taxonomy = default_taxonomy()
    return [
        (c, classify(c["reply_text"], kind=c["kind"], taxonomy=taxonomy, competitors=COMPETITORS))
        for c in _replies()
    ]


def test_outcome_and_primary_reason(results: list[tuple[dict[str, Any], Any]]) -> None:
    n = len(results)
    outcome = sum(c["gold"]["outcome"] == r.outcome for c, r in results) / n
    primary = sum(c["gold"]["reasons"][:1] == list(r.reasons[:1]) for c, r in results) / n
    assert outcome >= 0.95
    assert primary >= 0.85


def test_reason_set_f1(results: list[tuple[dict[str, Any], Any]]) -> None:
    tp = fp = fn = 0
    for c, r in results:
        gold, got = set(c["gold"]["reasons"]), set(r.reasons)
        tp, fp, fn = tp + len(gold & got), fp + len(got - gold), fn + len(gold - got)
    assert 2 * tp / (2 * tp + fp + fn) >= 0.90


def test_competitor(results: list[tuple[dict[str, Any], Any]]) -> None:
    overall = sum(c["gold"]["competitor"] == r.competitor for c, r in results) / len(results)
    named = [(c, r) for c, r in results if c["gold"]["competitor"]]
    assert overall >= 0.95
    assert sum(c["gold"]["competitor"] == r.competitor for c, r in named) / len(named) >= 0.95


def test_needs_review(results: list[tuple[dict[str, Any], Any]]) -> None:
    flagged = [c for c, r in results if c["gold"]["needs_review"]]
    caught = [c for c, r in results if c["gold"]["needs_review"] and r.needs_review]
    raised = [c for c, r in results if r.needs_review]
    assert len(caught) / len(flagged) >= 0.80
    assert len(caught) / len(raised) >= 0.6  # precision: review is not flagged at random


def test_result_shape(results: list[tuple[dict[str, Any], Any]]) -> None:
    taxonomy = default_taxonomy()
    for case, r in results:
        kind = taxonomy.kind(case["kind"])
        assert r.outcome is None or r.outcome in kind.outcome_codes
        assert all(code in kind.reason_outcome for code in r.reasons)
        assert len(set(r.reasons)) == len(r.reasons)
        assert 0.0 <= r.confidence <= 1.0
        if r.outcome is None:
            assert r.reasons == ()
