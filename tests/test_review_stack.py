"""The review flag stacked on the model's whole reading (``feedback.classify.model.review_flag``): one
number per named feature, a model file's stack round-trips (and one fitted on other features is
ignored), the stack alone decides the flag when the file carries one, and folds of grouped
writers hold every writer once, each scored by a model that never saw it."""

from __future__ import annotations

import math

import pytest

from feedback.classify import classify
from feedback.classify.model import classify_with_model, shipped_model
from feedback.classify.model.combine import combine, model_answer
from feedback.classify.model.review_flag import FEATURES, ReviewStack, review_features
from feedback.classify.model.train import (
    TRAIN_WRITERS,
    fit_review_stack,
    shipped_corpus,
    train_by_writers,
    writer_groups,
)
from feedback.core.taxonomy import default_taxonomy

TAXONOMY = default_taxonomy()
TEXT = "Lost it. Honestly I think price, but maybe they just never had the budget? Not sure."


def _reading(text: str = TEXT, kind: str = "winloss"):  # type: ignore[no-untyped-def]
    model = shipped_model()
    assert model is not None
    rules = classify(text, kind=kind, taxonomy=TAXONOMY)
    scores = model.score(text, kind=kind, rules=rules)
    assert scores is not None
    settings = model.meta["combine"]["*"]
    return model, rules, scores, settings


def test_the_features_are_one_finite_number_per_name() -> None:
    _, rules, scores, settings = _reading()
    kt = TAXONOMY.kind("winloss")
    row = review_features(rules, scores, kt, model_answer(scores, kt, settings=settings))
    assert len(row) == len(FEATURES) and all(math.isfinite(x) for x in row)


def test_a_stack_round_trips_and_one_of_other_features_is_ignored() -> None:
    n = len(FEATURES)
    stack = ReviewStack(coef=tuple(0.1 * i for i in range(n)), bias=-1.5, mean=(0.5,) * n, scale=(2.0,) * n)
    assert ReviewStack.from_meta(stack.to_meta()) == stack
    other = {**stack.to_meta(), "features": [*FEATURES[:-1], "something else"]}
    assert ReviewStack.from_meta(other) is None and ReviewStack.from_meta(None) is None
    assert 0.0 < stack.probability([0.5] * n) < 1.0 and stack.probability([0.5] * n) == pytest.approx(
        1 / (1 + math.exp(1.5))
    )


def test_the_stack_alone_decides_the_flag() -> None:
    _, rules, scores, settings = _reading()
    kt = TAXONOMY.kind("winloss")
    n = len(FEATURES)
    always = ReviewStack(coef=(0.0,) * n, bias=50.0, mean=(0.0,) * n, scale=(1.0,) * n)
    never = ReviewStack(coef=(0.0,) * n, bias=-50.0, mean=(0.0,) * n, scale=(1.0,) * n)
    flagged = combine(rules, scores, kt, settings=settings, stack=always)
    plain = combine(rules, scores, kt, settings=settings, stack=never)
    assert flagged.needs_review and not plain.needs_review
    assert (flagged.outcome, flagged.reasons) == (plain.outcome, plain.reasons)  # the answer is untouched
    assert any(n.startswith("review: p=1.00") for n in flagged.explanation)


def test_the_shipped_model_carries_a_stack_the_worker_uses() -> None:
    model, rules, scores, settings = _reading()
    stack = ReviewStack.from_meta(model.meta.get("review_stack"))
    assert stack is not None
    kt = TAXONOMY.kind("winloss")
    expected = combine(rules, scores, kt, settings=settings, stack=stack)
    assert classify_with_model(TEXT, kind="winloss", taxonomy=TAXONOMY, model=model) == expected


def test_writer_groups_hold_every_writer_once() -> None:
    groups = writer_groups(TRAIN_WRITERS, 4)
    assert len(groups) == 4 and sorted(w for g in groups for w in g) == sorted(TRAIN_WRITERS)
    assert max(map(len, groups)) - min(map(len, groups)) <= 1
    assert groups[0][:2] == ("W1", "W5")  # dealt in number order, W10 after W6
    assert writer_groups(["W2", "W1"]) == [("W1",), ("W2",)] == writer_groups(["W1", "W2"], 5)


@pytest.mark.timeout(900)  # fits three models: minutes on a busy shared machine
def test_folds_of_grouped_writers_choose_the_settings_and_fit_the_stack() -> None:
    corpus = [*shipped_corpus(("W1",))[:70], *shipped_corpus(("W2",))[:70], *shipped_corpus(("W3",))[:70]]
    seen: list[str] = []
    model, report = train_by_writers(corpus, c_grid=(10.0,), groups=2, progress=seen.append)
    assert set(report.dev["folds"]) == {"W1+W3", "W2"}
    assert report.dev["folds"]["W1+W3"]["rules"]["n"] == 140 and report.dev["combined"]["n"] == 210
    assert "leave a group of writers out: W1+W3, W2" in model.meta["selection"]
    stack = ReviewStack.from_meta(model.meta["review_stack"])
    assert stack is not None and 0.0 < report.settings["review_threshold"] < 1.0
    assert any("fold W1+W3" in line for line in seen)
    # one fold is no held-out choice of a threshold: no stack
    assert fit_review_stack([[]], TAXONOMY, report.settings) is None
