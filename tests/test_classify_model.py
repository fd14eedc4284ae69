"""The trained classifier beside the rules (issue 17): the numpy scorer gives scikit-learn's
probabilities, the model file round-trips, an unknown taxonomy falls back to the rules, versions
live in the database and reach the worker without a restart, and corrections of a new wording
make later replies with that wording right after ``feedback model train``."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from cli.main import app
from feedback.classify import classify
from feedback.classify.classification import ClassificationResult
from feedback.classify.model import ClassifierModel, classify_with_model, shipped_model
from feedback.classify.model.features import featurise
from feedback.classify.model.scorer import NONE, KindWeights, Scores
from feedback.classify.model.train import (
    DEV_WRITERS,
    MIN_DF,
    TRAIN_WRITERS,
    Labelled,
    RulesCache,
    _matrix,
    fit,
    fit_kind,
    score_all,
    shipped_corpus,
    train_by_writers,
)
from feedback.core.taxonomy import default_taxonomy, parse_taxonomy_toml
from feedback.runtime.settings import Settings
from feedback.services import classifier_models
from feedback.services.classifier_models import activate_version, active_model, train_version
from feedback.services.review import queue
from feedback.storage.models import FeedbackRequest, Rep, Response, ResponseReason, ReviewItem, utcnow

TAXONOMY = default_taxonomy()


@pytest.fixture(scope="module")
def small_corpus() -> tuple[list[Labelled], list[Labelled]]:
    """A few hundred shipped replies (fits in seconds; the real fit uses all of them)."""
    train = shipped_corpus(TRAIN_WRITERS[:1])[:160]
    dev = shipped_corpus(DEV_WRITERS)[:60]
    return train, dev


def test_numpy_scorer_equals_sklearn_predict_proba(
    small_corpus: tuple[list[Labelled], list[Labelled]],
) -> None:
    train, dev = small_corpus
    kind = "disposition"
    examples = [e for e in train if e.kind == kind]
    rules = RulesCache(TAXONOMY)
    weights = fit_kind(examples, rules, C=10.0)
    # the same data and features fitted by scikit-learn directly
    feats = [featurise(e.text, rules(kind, e.text)) for e in examples]
    df: Counter[str] = Counter()
    for f in feats:
        df.update(set(f.names))
    assert all(df[n] >= MIN_DF or n.startswith(("r|", "n|")) for n in weights.vocab)
    X = _matrix([(f.names, f.values) for f in feats], weights.vocab)
    y = [e.outcome or NONE for e in examples]
    outcome = LogisticRegression(C=10.0, max_iter=3000).fit(X, y)
    review = LogisticRegression(C=10.0, solver="liblinear", max_iter=3000)
    review.fit(X, [e.needs_review for e in examples])
    others = [e for e in dev if e.kind == kind][:40]
    Xd = _matrix(
        [(f.names, f.values) for f in (featurise(e.text, rules(kind, e.text)) for e in others)], weights.vocab
    )
    want = outcome.predict_proba(Xd)
    want_review = review.predict_proba(Xd)[:, 1]
    for i, e in enumerate(others):
        got = weights.score(e.text, rules(kind, e.text))
        for j, c in enumerate(outcome.classes_):
            assert got.outcome[c] == pytest.approx(want[i, j], abs=1e-4)
        assert got.review == pytest.approx(want_review[i], abs=1e-4)


def _featurised_scores(kw: KindWeights, text: str, rules: ClassificationResult) -> Scores:
    """The scores straight from ``featurise``: one weight row per feature, times its value."""
    f = featurise(text, rules)
    z = kw.bias.astype(np.float64)
    for name, value in zip(f.names, f.values, strict=True):
        if (row := kw.vocab.get(name)) is not None:
            z = z + value * kw.weights[row].astype(np.float64)
    return kw.from_logits(z.astype(np.float32))


def test_the_fast_scorer_gives_featurise_numbers_and_survives_a_full_word_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Per-word sums of n-gram rows, pair lookups and one matrix product: the same probabilities
    as the features summed one by one (repeated words, a question, no words, unknown words)."""
    model = shipped_model()
    assert model is not None
    texts = [
        "Lost - they went with Contoso, we were too expensive",
        "price price price, and the price again?",
        "",
        "...",
        "zxqv glorpwash frobnicate",
        "Wir haben uns für einen anderen Anbieter entschieden, der Preis war zu hoch.",
        *[e.text for e in shipped_corpus(TRAIN_WRITERS[:1])[:40]],
    ]
    for kind in ("winloss", "disposition"):
        kw = model.kinds[kind]
        for _attempt in range(2):
            for text in texts:
                rules = classify(text, kind=kind, taxonomy=TAXONOMY)
                got, want = kw.score(text, rules), _featurised_scores(kw, text, rules)
                assert got.outcome == pytest.approx(want.outcome, abs=1e-5)
                assert got.primary == pytest.approx(want.primary, abs=1e-5)
                assert got.reasons == pytest.approx(want.reasons, abs=1e-5)
                assert got.review == pytest.approx(want.review, abs=1e-5)
            monkeypatch.setattr(type(kw.table), "LIMIT", 5)  # second pass: a fresh table per reply


def test_model_file_round_trips_and_the_shipped_model_loads() -> None:
    model = shipped_model()
    assert model is not None and {"disposition", "winloss"} <= set(model.kinds)
    again = ClassifierModel.from_bytes(model.to_bytes())
    text = "Lost - they went with Contoso, we were too expensive"
    rules = classify(text, kind="winloss", taxonomy=TAXONOMY)
    a = model.score(text, kind="winloss", rules=rules)
    b = again.score(text, kind="winloss", rules=rules)
    assert a is not None and b is not None
    assert a.outcome == pytest.approx(b.outcome) and a.review == pytest.approx(b.review)
    for kw in model.kinds.values():
        assert kw.weights.dtype == np.float32
    path = Path(__file__).resolve().parent.parent / "feedback" / "classify" / "model" / "classifier.npz"
    # 16.0 MB since the refit on thirty-four writers (18,200 replies): the vocabulary grows with them
    assert path.stat().st_size < 20_000_000


def test_explanation_says_which_part_decided() -> None:
    model = shipped_model()
    r = classify_with_model(
        "Won - they loved the dashboards and our support team", kind="winloss", taxonomy=TAXONOMY, model=model
    )
    assert r.outcome == "won"
    assert any(("agree" in n) or ("decided" in n) for n in r.explanation)


def test_a_replaced_taxonomy_falls_back_to_the_rules_and_never_crashes() -> None:
    replaced = parse_taxonomy_toml(
        """
[taxonomy]
mode = "replace"
[taxonomy.kinds.winloss]
label = "Win/loss"
[[taxonomy.kinds.winloss.outcomes]]
code = "closed_good"
label = "Good"
phrases = { en = ["won"] }
[[taxonomy.kinds.winloss.outcomes.reasons]]
code = "cheap"
label = "Cheap"
phrases = { en = ["cheaper"] }
[[taxonomy.kinds.winloss.outcomes]]
code = "closed_bad"
label = "Bad"
phrases = { en = ["lost"] }
[taxonomy.kinds.disposition]
label = "Lead"
[[taxonomy.kinds.disposition.outcomes]]
code = "taken"
label = "Taken"
phrases = { en = ["accepted"] }
"""
    )
    model = shipped_model()
    for text in ("Won, we were cheaper", "Lost. Too pricey.", "no idea", ""):
        rules = classify(text, kind="winloss", taxonomy=replaced)
        got = classify_with_model(text, kind="winloss", taxonomy=replaced, model=model)
        assert (got.outcome, got.reasons) == (rules.outcome, rules.reasons)
        assert got.outcome is None or got.outcome in ("closed_good", "closed_bad")


def _correction(
    session: Session, rep: Rep, kind: str, text: str, outcome: str, reasons: tuple[str, ...]
) -> None:
    request = FeedbackRequest(kind=kind, rep_id=rep.id or 0, status="answered")
    session.add(request)
    session.flush()
    response = Response(
        request_id=request.id or 0,
        kind=kind,
        outcome=outcome,
        reply_text=text,
        source="correction",
        created_at=utcnow() - timedelta(days=1),
    )
    session.add(response)
    session.flush()
    for rank, code in enumerate(reasons):
        session.add(ResponseReason(response_id=response.id or 0, rank=rank, code=code))


NEW_WORDING = [
    "glorpwash, sorry",
    "Total glorpwash, nothing to sell there.",
    "another glorpwash from the webinar list",
    "glorpwash again. please filter these",
    "Classic glorpwash. Closing it.",
    "Spoke to him: glorpwash.",
]


@pytest.mark.timeout(600)  # fits models: tens of seconds on a busy machine
def test_corrections_of_a_new_wording_make_later_replies_right_after_model_train(
    engine: Engine, small_corpus: tuple[list[Labelled], list[Labelled]]
) -> None:
    later = "glorpwash, as usual"
    classifier_models.forget_cache()
    with Session(engine) as session:
        before = classify_with_model(
            later, kind="disposition", taxonomy=TAXONOMY, model=active_model(session)
        )
        assert (before.outcome, before.reasons[:1]) != ("rejected", ("not_a_buyer",))
        rep = Rep(email="dana@brightline.example", name="Dana Whitfield")
        session.add(rep)
        session.flush()
        for text in NEW_WORDING:
            _correction(session, rep, "disposition", text, "rejected", ("not_a_buyer",))
        session.commit()
        row = train_version(session, taxonomy=TAXONOMY, corpus=small_corpus, c_grid=(10.0,), refit=False)
        assert row.version == 1 and row.active and row.correction_count == len(NEW_WORDING)
        model = active_model(session, ttl=0)
        assert model is not None and model.version == 1
        after = classify_with_model(later, kind="disposition", taxonomy=TAXONOMY, model=model)
        assert (after.outcome, after.reasons[:1]) == ("rejected", ("not_a_buyer",))
        assert classify_with_model(
            "Spoke to them: another glorpwash", kind="disposition", taxonomy=TAXONOMY, model=model
        ).reasons[:1] == ("not_a_buyer",)


@pytest.mark.timeout(600)  # fits models: tens of seconds on a busy machine
def test_workers_pick_up_the_active_version_within_the_ttl(
    engine: Engine, small_corpus: tuple[list[Labelled], list[Labelled]]
) -> None:
    classifier_models.forget_cache()
    with Session(engine) as session:
        assert active_model(session) is shipped_model()  # nothing trained: the shipped model
        first = train_version(session, taxonomy=TAXONOMY, corpus=small_corpus, c_grid=(10.0,), refit=False)
        assert active_model(session, ttl=3600).version is None  # type: ignore[union-attr]  # cached
        assert active_model(session, ttl=0).version == first.version  # type: ignore[union-attr]
        second = train_version(
            session, taxonomy=TAXONOMY, corpus=small_corpus, c_grid=(10.0,), refit=False, activate=False
        )
        assert active_model(session, ttl=0).version == first.version  # type: ignore[union-attr]
        activate_version(session, second.version)
        assert active_model(session, ttl=0).version == second.version  # type: ignore[union-attr]
    classifier_models.forget_cache()


@pytest.mark.timeout(600)  # fits models: tens of seconds on a busy machine
def test_model_cli_lists_shows_activates_and_refuses_an_unknown_version(
    engine: Engine, settings: Settings, small_corpus: tuple[list[Labelled], list[Labelled]], tmp_path: Path
) -> None:
    with Session(engine) as session:
        train_version(
            session, taxonomy=TAXONOMY, corpus=small_corpus, c_grid=(10.0,), refit=False, note="test fit"
        )
    runner = CliRunner()
    env = {
        "FEEDBACK_DATABASE_URL": settings.resolved_database_url,
        "FEEDBACK_SECRET": "test-secret",
        "FEEDBACK_DATA_DIR": str(settings.data_dir),
    }
    listed = runner.invoke(app, ["model", "list", "--format", "json"], env=env)
    assert listed.exit_code == 0, listed.output
    assert '"version": 1' in listed.output and "test fit" in listed.output
    shown = runner.invoke(app, ["model", "show", "1"], env=env)
    assert shown.exit_code == 0 and "dev combined" in shown.output
    assert runner.invoke(app, ["model", "activate", "1"], env=env).exit_code == 0
    missing = runner.invoke(app, ["model", "activate", "7"], env=env)
    assert missing.exit_code == 2 and "no model version 7" in missing.output
    assert "Traceback" not in missing.output


def test_review_queue_puts_the_least_confident_answers_first(engine: Engine) -> None:
    with Session(engine) as session:
        rep = Rep(email="sam@brightline.example", name="Sam Ode")
        session.add(rep)
        session.flush()
        items = []
        for conf in (0.9, 0.2, 0.6):
            request = FeedbackRequest(kind="winloss", rep_id=rep.id or 0)
            session.add(request)
            session.flush()
            response = Response(
                request_id=request.id or 0, kind="winloss", confidence=conf, needs_review=True
            )
            session.add(response)
            session.flush()
            item = ReviewItem(type="response", response_id=response.id, request_id=request.id)
            session.add(item)
            items.append(item)
        session.add(ReviewItem(type="unmatched", reason="matches no request"))
        session.commit()
        order = [
            (i.type, session.get(Response, i.response_id).confidence if i.response_id else None)
            for i in queue(session)
        ]  # type: ignore[union-attr]
    assert order == [("response", 0.2), ("response", 0.6), ("response", 0.9), ("unmatched", None)]


def test_analyse_uses_the_model_when_given_one_and_the_suite_defaults_to_the_rules(
    settings: Settings,
) -> None:
    from email.message import EmailMessage

    from feedback.core.analysis import AnalysisConfig, analyse

    msg = EmailMessage()
    msg["From"] = "Dana <dana@brightline.example>"
    msg["To"] = "feedback@feedback.example.test"
    msg["Subject"] = "Re: Deal Globex"
    msg.set_content("Lost, they went with Contoso. Too expensive for them.\n")
    with_model = analyse(msg.as_bytes(), kind="winloss", config=AnalysisConfig(model=shipped_model()))
    rules_only = analyse(msg.as_bytes(), kind="winloss")
    assert with_model.result is not None and rules_only.result is not None
    assert with_model.result.outcome == rules_only.result.outcome == "lost"
    assert any("model" in n for n in with_model.result.explanation)
    assert not any("model" in n for n in rules_only.result.explanation)
    assert settings.classifier_model is False  # the suite asserts the rules; the product's default:
    assert Settings().classifier_model is True


def test_nightly_retrain_is_a_setting_off_by_default(settings: Settings, engine: Engine) -> None:
    from workers.arq_config import build_worker

    def crons(s: Settings) -> set[str]:
        return {c.name for c in build_worker(s, engine, "redis://127.0.0.1:1/0").cron_jobs}

    assert not any("retrain" in name for name in crons(settings))
    nightly = settings.model_copy(update={"model_retrain_nightly": True, "model_retrain_hour": 4})
    assert any("retrain_model" in name for name in crons(nightly))
    # thirty-four writers' folds in one process take about ninety minutes: the job must not be cut off
    (retrain,) = [
        c for c in build_worker(nightly, engine, "redis://127.0.0.1:1/0").cron_jobs if "retrain" in c.name
    ]
    assert retrain.timeout_s is not None and retrain.timeout_s >= 4 * 3600


def test_the_shipped_model_crosses_to_the_analysis_processes_by_reference() -> None:
    """The worker's process pool gets the model with every batch: the shipped one must not be
    5 MB of pickle each time, and a trained version arrives whole."""
    import pickle

    from feedback.classify.model.scorer import ClassifierModel, shipped_model

    model = shipped_model()
    assert model is not None
    data = pickle.dumps(model)
    assert len(data) < 1000 and pickle.loads(data) is model
    trained = ClassifierModel.from_bytes(model.to_bytes(), version=7)
    back = pickle.loads(pickle.dumps(trained))
    assert back.version == 7 and back.kinds.keys() == trained.kinds.keys()
    assert trained.to_bytes() is trained.source  # sent as read, never compressed again per batch


def test_threads_asking_for_the_shipped_model_at_once_get_one_instance() -> None:
    """The worker's two batches in flight ask for the model at the same moment on their first
    batch: a second instance would not be the one pickled by reference, and every batch after
    would compress and send the whole model (a tenth of a second each) to the analysis pool."""
    import pickle
    import threading

    from feedback.classify.model import scorer

    scorer._load_shipped.cache_clear()
    start = threading.Barrier(8)
    got: list[object] = []

    def ask() -> None:
        start.wait()
        got.append(scorer.shipped_model())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 8 and all(m is got[0] for m in got)
    assert len(pickle.dumps(got[0])) < 1000


@pytest.mark.timeout(900)  # fits six models: minutes on a busy shared machine
def test_leaving_one_writer_out_scores_each_writer_with_a_model_that_never_saw_it() -> None:
    """Each writer is one fold (fitted on the others); the settings come from the folds' average,
    and the weights shipped are fitted on every writer."""
    corpus = [*shipped_corpus(("W1",))[:120], *shipped_corpus(("W2",))[:120]]
    seen: list[str] = []
    model, report = train_by_writers(corpus, c_grid=(10.0,), progress=seen.append)
    assert set(report.dev["folds"]) == {"W1", "W2"}
    assert report.dev["combined"]["n"] == 240 and report.dev["folds"]["W1"]["rules"]["n"] == 120
    assert report.counts == {"train": 240, "dev": 0, "corrections": 0}
    assert "leave one writer out over W1, W2" in model.meta["selection"]
    assert model.meta["combine"]["*"] == report.settings and "review_threshold" in report.settings
    rules = RulesCache(TAXONOMY)
    both = fit(corpus, rules, C=10.0)
    for kind, kw in both.kinds.items():
        assert kw.vocab == model.kinds[kind].vocab
        assert np.allclose(kw.weights, model.kinds[kind].weights)
    # folds fitted beforehand (bench/lowo.py --cache) give the same choice without refitting them
    folds = [
        score_all(fit([e for e in corpus if e.writer != w], rules, C=10.0), held, rules)
        for w in ("W1", "W2")
        for held in [[e for e in corpus if e.writer == w]]
    ]
    again, report_again = train_by_writers(corpus, c_grid=(10.0,), scored_folds=folds)
    assert report_again.settings == report.settings and report_again.dev == report.dev
    assert np.allclose(again.kinds["winloss"].weights, model.kinds["winloss"].weights)
    with pytest.raises(ValueError, match="each writer of the corpus in one fold"):
        train_by_writers(corpus, c_grid=(10.0,), scored_folds=folds[:1])
    # and the weights fitted on every writer beforehand are kept (no fit at all)
    kept, _ = train_by_writers(corpus, c_grid=(10.0,), scored_folds=folds, fitted=both)
    assert kept.kinds is both.kinds and kept.meta["combine"] == model.meta["combine"]
    with pytest.raises(ValueError, match="C=10"):
        train_by_writers(corpus, c_grid=(30.0,), scored_folds=folds, fitted=both)


@pytest.mark.timeout(900)  # fits three models twice: minutes on a busy shared machine
def test_the_folds_fitted_in_processes_give_the_serial_result() -> None:
    """``jobs`` > 1 (``feedback model train --jobs``, ``model_train_jobs``) only spreads the same
    fits over processes: the same settings, figures and weights as one process."""
    corpus = [*shipped_corpus(("W1",))[:80], *shipped_corpus(("W2",))[:80]]
    seen: list[str] = []
    serial, report = train_by_writers(corpus, c_grid=(10.0,))
    spread, report_spread = train_by_writers(corpus, c_grid=(10.0,), jobs=2, progress=seen.append)
    assert report_spread.settings == report.settings and report_spread.dev == report.dev
    for kind, kw in serial.kinds.items():
        assert kw.vocab == spread.kinds[kind].vocab
        assert np.allclose(kw.weights, spread.kinds[kind].weights)
    assert any("fold W1" in line and "(1 of 2)" in line for line in seen)
