"""Fit the classifier model with scikit-learn (training time only; the worker never imports this).

    python -m feedback.classify.model.train [--out PATH] [--c-grid C ...]   # refit the shipped model
    python -m feedback.classify.model.train --c-grid C --folds FOLDS.pkl [--weights ALL.npz]
        # the folds of bench/lowo.py --cache; ALL.npz: fitted on every writer at C (not refitted)

Data: the labelled corpus shipped in ``feedback/data/labelled/`` (one file per independent writer,
W1-W6 and W10-W37; the test writers' replies are in ``bench/labelled/`` and never read here), plus, for
``feedback model train``, every correction people made (weighted, newest most). Per kind: a
multinomial logistic regression for the outcome and for the primary reason, one binary one per
reason code (one-vs-rest) and one for review, on the features of ``features.featurise``.

The combination and review settings (and C, given several) are chosen by leaving one writer out
(``train_by_writers``): each writer's replies are scored by a model fitted on the other writers,
and a setting's figures are the average over the writers; the weights shipped are then fitted on
all of them. ``train`` is the older procedure (choose on one dev set; ``--dev-writer``: DEV = W4),
kept for quick fits on a given split (tests).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import pickle
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from feedback.classify.classification import ClassificationResult
from feedback.classify.classifier import classify
from feedback.classify.model.combine import DEFAULTS, combine, model_answer
from feedback.classify.model.features import featurise
from feedback.classify.model.figures import Figures
from feedback.classify.model.review_flag import ReviewStack, review_features
from feedback.classify.model.scorer import (
    HEADS,
    NONE,
    ClassifierModel,
    KindWeights,
    Scores,
    make_kind_weights,
)
from feedback.core.competitor_list import Competitor
from feedback.core.taxonomy import Taxonomy, default_taxonomy

# every writer shipped (bench/labelled/README.md); W7-W9 and W46-W49 are the TEST writers, never shipped
TRAIN_WRITERS = (
    *("W1", "W2", "W3", "W4", "W5", "W6"),
    *("W10", "W11", "W12", "W13"),
    *("W14", "W15", "W16", "W17", "W18", "W19", "W20", "W21"),
    *("W22", "W23", "W24", "W25", "W26", "W27", "W28", "W29"),
    *("W30", "W31", "W32", "W33", "W34", "W35", "W36", "W37"),
    # TEST-B, scored once at stop 16, then moved to training (bench/labelled/README.md)
    *("W38", "W39", "W40", "W41"),
    # TEST-C, scored once at stop 17, then moved to training (bench/labelled/README.md, stop 21)
    *("W42", "W43", "W44", "W45"),
)
# the older single-dev-writer procedure (``train``, ``--dev-writer``): fit on W1-W3, choose on W4
EARLY_TRAIN_WRITERS = ("W1", "W2", "W3")
DEV_WRITERS = ("W4",)
C_GRID = (3.0, 10.0, 30.0)
# C for the leave-one-writer-out procedure. 30 was chosen on DEV W4 of (3, 10, 30), at the grid's
# edge; 100 beat it by leaving one writer out over the ten writers W1-W6 + W10-W13 (mean of the
# folds, model alone: outcome 93.5 vs 93.1, primary 83.0 vs 82.7, F1 0.843 vs 0.840), before the
# eight writers W14-W21 joined. A grid per fold would multiply the fits by its length.
SHIPPED_C = 100.0
MIN_DF = 2  # a word or n-gram seen in one reply only is noise, and a weight row to ship
# the writers' competitor list (bench/labelled/README.md): the rules read it while fitting
CORPUS_COMPETITORS = (
    Competitor(name="Contoso Suite", aliases=("contoso",)),
    Competitor(name="Fabrikam Analytics", aliases=("fabrikam", "fab")),
    Competitor(name="Tailspin CRM", aliases=("tailspin",)),
    Competitor(name="Wingtip Data", aliases=("wingtip",)),
    Competitor(name="Litware Cloud", aliases=("litware",)),
)


@dataclass(frozen=True, slots=True)
class Labelled:
    """One labelled reply (from the corpus, or a person's correction)."""

    kind: str
    text: str
    outcome: str | None
    reasons: tuple[str, ...]
    needs_review: bool = False
    weight: float = 1.0
    writer: str = ""
    lang: str = ""
    id: str = ""


def read_jsonl(lines: Iterable[str]) -> list[Labelled]:
    out = []
    for line in lines:
        if not line.strip():
            continue
        c = json.loads(line)
        g = c["gold"]
        if g.get("classification", "reply") != "reply":
            continue
        out.append(
            Labelled(
                kind=c["kind"],
                text=c["reply_text"],
                outcome=g["outcome"],
                reasons=tuple(g["reasons"]),
                needs_review=bool(g["needs_review"]),
                writer=c.get("writer", ""),
                lang=c.get("lang", ""),
                id=c.get("id", ""),
            )
        )
    return out


def shipped_corpus(writers: Sequence[str] = TRAIN_WRITERS) -> list[Labelled]:
    """The labelled replies shipped with the package, of the given writers."""
    base = resources.files("feedback.data").joinpath("labelled")
    out: list[Labelled] = []
    for w in writers:
        f = base.joinpath(f"{w}.jsonl")
        if f.is_file():
            out.extend(read_jsonl(f.read_text(encoding="utf-8").splitlines()))
    return out


class RulesCache:
    """The rules' result per (kind, text), computed once per training run."""

    def __init__(self, taxonomy: Taxonomy, competitors: Sequence[Competitor] = CORPUS_COMPETITORS):
        self.taxonomy = taxonomy
        self.competitors = tuple(competitors)
        self._seen: dict[tuple[str, str], ClassificationResult] = {}

    def __call__(self, kind: str, text: str) -> ClassificationResult:
        key = (kind, text)
        r = self._seen.get(key)
        if r is None:
            r = classify(text, kind=kind, taxonomy=self.taxonomy, competitors=self.competitors)
            self._seen[key] = r
        return r


def _matrix(rows: list[tuple[tuple[str, ...], tuple[float, ...]]], vocab: dict[str, int]) -> Any:
    indptr, indices, data = [0], [], []
    for names, values in rows:
        for n, v in zip(names, values, strict=True):
            i = vocab.get(n)
            if i is not None:
                indices.append(i)
                data.append(v)
        indptr.append(len(indices))
    return sparse.csr_matrix(
        (np.asarray(data, dtype=np.float64), np.asarray(indices), np.asarray(indptr)),
        shape=(len(rows), len(vocab)),
    )


def _softmax_head(X: Any, y: list[str], w: Any, C: float, classes: list[str]) -> tuple[Any, Any]:
    """(weights (features, classes), bias) of a multinomial logistic regression."""
    present = sorted(set(y))
    if len(present) == 1:  # one class only: it always wins
        W = np.zeros((X.shape[1], len(classes)))
        b = np.full(len(classes), -20.0)
        b[classes.index(present[0])] = 0.0
        return W, b
    clf = LogisticRegression(C=C, max_iter=3000)
    clf.fit(X, y, sample_weight=w)
    W = np.zeros((X.shape[1], len(classes)))
    b = np.full(len(classes), -20.0)
    if len(clf.classes_) == 2:  # sklearn keeps one column for two classes: logits (0, w.x + b)
        W[:, classes.index(clf.classes_[1])] = clf.coef_[0]
        b[classes.index(clf.classes_[0])] = 0.0
        b[classes.index(clf.classes_[1])] = clf.intercept_[0]
    else:
        for j, c in enumerate(clf.classes_):
            W[:, classes.index(c)] = clf.coef_[j]
            b[classes.index(c)] = clf.intercept_[j]
    return W, b


def _sigmoid_head(X: Any, y: list[bool], w: Any, C: float) -> tuple[Any, float]:
    if all(y) or not any(y):
        return np.zeros(X.shape[1]), (20.0 if all(y) else -20.0)
    clf = LogisticRegression(C=C, solver="liblinear", max_iter=3000)
    clf.fit(X, y, sample_weight=w)
    return clf.coef_[0], float(clf.intercept_[0])


def fit_kind(examples: Sequence[Labelled], rules: RulesCache, *, C: float) -> KindWeights:
    """Fit the four heads for the examples of one kind."""
    feats = [featurise(e.text, rules(e.kind, e.text)) for e in examples]
    df: Counter[str] = Counter()
    for f in feats:
        df.update(set(f.names))
    names = sorted(n for n, c in df.items() if c >= MIN_DF or n.startswith(("r|", "n|")))
    vocab = {n: i for i, n in enumerate(names)}
    X = _matrix([(f.names, f.values) for f in feats], vocab)
    w = np.asarray([e.weight for e in examples], dtype=np.float64)
    outcomes = sorted({e.outcome or NONE for e in examples} | {NONE})
    primaries = sorted({e.reasons[0] if e.reasons else NONE for e in examples} | {NONE})
    reason_codes = sorted({r for e in examples for r in e.reasons})
    Wo, bo = _softmax_head(X, [e.outcome or NONE for e in examples], w, C, outcomes)
    Wp, bp = _softmax_head(X, [e.reasons[0] if e.reasons else NONE for e in examples], w, C, primaries)
    cols_r, bias_r = [], []
    for code in reason_codes:
        coef, b = _sigmoid_head(X, [code in e.reasons for e in examples], w, C)
        cols_r.append(coef)
        bias_r.append(b)
    coef_v, b_v = _sigmoid_head(X, [e.needs_review for e in examples], w, C)
    Wr = np.stack(cols_r, axis=1) if cols_r else np.zeros((X.shape[1], 0))
    weights = np.concatenate([Wo, Wp, Wr, coef_v[:, None]], axis=1)
    bias = np.concatenate([bo, bp, np.asarray(bias_r), [b_v]])
    classes = {"outcome": tuple(outcomes), "primary": tuple(primaries), "reasons": tuple(reason_codes)}
    classes["review"] = ("review",)
    assert tuple(classes) == HEADS
    return make_kind_weights(names, weights, bias, classes)


def fit(examples: Sequence[Labelled], rules: RulesCache, *, C: float) -> ClassifierModel:
    kinds = sorted({e.kind for e in examples})
    fitted = {k: fit_kind([e for e in examples if e.kind == k], rules, C=C) for k in kinds}
    return ClassifierModel(kinds=fitted, meta={"kinds": kinds, "C": C})


@dataclass
class Scored:
    """A dev reply with the rules' result and the model's scores (for cheap grid searches)."""

    example: Labelled
    rules: ClassificationResult
    scores: Scores


def score_all(model: ClassifierModel, examples: Sequence[Labelled], rules: RulesCache) -> list[Scored]:
    out = []
    for e in examples:
        r = rules(e.kind, e.text)
        s = model.score(e.text, kind=e.kind, rules=r)
        if s is not None:
            out.append(Scored(e, r, s))
    return out


def figures_of(
    scored: Sequence[Scored], taxonomy: Taxonomy, how: Callable[[Scored], ClassificationResult]
) -> Figures:
    f = Figures()
    for s in scored:
        r = how(s)
        e = s.example
        f.add(e.outcome, e.reasons, e.needs_review, r.outcome, r.reasons, r.needs_review)
    return f


def model_only(s: Scored, taxonomy: Taxonomy, settings: dict[str, float]) -> ClassificationResult:
    """The model's own answer (its review head at the chosen threshold)."""
    kt = taxonomy.kind(s.example.kind)
    m = model_answer(s.scores, kt, settings=settings)
    threshold = settings.get("model_review_threshold", settings.get("review_threshold", 0.5))
    return replace(
        s.rules,
        outcome=m.outcome,
        reasons=m.reasons,
        confidence=m.confidence,
        needs_review=s.scores.review >= threshold,
    )


Folds = Sequence[Sequence[Scored]]


def _mean_figures(
    folds: Folds, how: Callable[[Scored], ClassificationResult], taxonomy: Taxonomy
) -> dict[str, float]:
    """Outcome, primary, F1, review precision and recall, each averaged over the folds."""
    per = [figures_of(fold, taxonomy, how) for fold in folds if fold]
    n = len(per) or 1
    return {
        "outcome": sum(f.outcome_acc for f in per) / n,
        "primary": sum(f.primary_acc for f in per) / n,
        "f1": sum(f.f1 for f in per) / n,
        "precision": sum(f.review_precision or 0.0 for f in per) / n,
        "recall": sum(f.review_recall or 0.0 for f in per) / n,
    }


def _as_folds(scored: Sequence[Scored] | Folds) -> list[Sequence[Scored]]:
    """One dev set (a list of ``Scored``) or several held-out folds (a list of such lists)."""
    if scored and isinstance(scored[0], Scored):
        return [scored]  # type: ignore[list-item]
    return list(scored)  # type: ignore[arg-type]


# the model's answer (``combine.model_answer``): the older sequential one, and the joint one
ANSWER_GRID = (
    {"answer_joint": 0.0, "primary_reasons": 0.0},
    {"answer_joint": 1.0, "primary_reasons": 0.0},
    {"answer_joint": 0.0, "primary_reasons": 1.0},
    {"answer_joint": 1.0, "primary_reasons": 1.0},
)
REASON_THRESHOLDS = (0.2, 0.3, 0.4, 0.5)


def _answer_stats(folds: Folds, taxonomy: Taxonomy, answer: dict[str, float]) -> list[Any]:
    """Per fold, one row per reply: the rules' and the model's answer scored against the labels
    (outcome right, primary right, reason tp / fp / fn; each twice), whether they agree (outcome
    and primary), the model's answer with the rules' other reasons (the agreeing case), the
    rules' confidence and review flag, the model's confidence."""

    def score(e: Labelled, outcome: str | None, reasons: tuple[str, ...]) -> list[float]:
        g, p = set(e.reasons), set(reasons)
        return [
            float(e.outcome == outcome),
            float(e.reasons[:1] == reasons[:1]),
            len(g & p),
            len(p - g),
            len(g - p),
        ]

    out = []
    for fold in folds:
        rows = []
        for s in fold:
            m = model_answer(s.scores, taxonomy.kind(s.example.kind), settings=answer)
            r = s.rules
            agree = r.outcome == m.outcome and r.reasons[:1] == m.reasons[:1]
            rows.append(
                [
                    *score(s.example, r.outcome, r.reasons),
                    *score(s.example, m.outcome, m.reasons),
                    float(agree),
                    r.confidence,
                    float(r.needs_review),
                    m.confidence,
                ]
            )
        out.append(np.asarray(rows, dtype=np.float64).reshape(-1, 14))
    return out


def _figure_means(stats: Any) -> Any:
    """Mean over the folds of (outcome accuracy, primary accuracy, reason-set F1)."""
    out = np.zeros(3)
    for st, n in stats:
        d = 2 * st[2] + st[3] + st[4]
        out += [st[0] / n, st[1] / n, 2 * st[2] / d if d else 1.0]
    return out / (len(stats) or 1)


def tune_combination(scored: Sequence[Scored] | Folds, taxonomy: Taxonomy) -> dict[str, float]:
    """Combination settings chosen on held-out replies: accuracy first, then the review threshold.

    ``scored`` is one dev set, or several folds (each writer's replies scored by a model fitted
    without that writer): a setting's figures are then the average over the folds, so no single
    writer's style decides. Every setting of the grid (the model's answer, the reason threshold,
    when the rules stand) is scored from per-reply rows in one vectorised pass (``combine``'s
    decision, without its notes)."""
    folds = [f for f in _as_folds(scored) if f]
    best: tuple[float, dict[str, float]] | None = None
    for answer in ANSWER_GRID:
        for rt in REASON_THRESHOLDS:
            stats = _answer_stats(folds, taxonomy, {**answer, "reason_threshold": rt})
            for trust in (0.0, 0.75, 0.85, 0.95, 2.0):
                for override in (0.6, 0.7, 0.8, 0.9, 0.95, 2.0):
                    for model_min in (0.0, 0.3, 0.4, 0.5, 0.6):
                        for on_review in (0.0, 1.0):
                            for agree_model in (0.0, 1.0):
                                sums = []
                                for a in stats:
                                    agree, rconf, rrev, mconf = a[:, 10], a[:, 11], a[:, 12], a[:, 13]
                                    trusted = (rconf >= trust) & (rrev == 0)
                                    held = (rrev == 1) & (on_review < 0.5)
                                    by_rules = (
                                        (agree == 0)
                                        & (mconf < override)
                                        & (trusted | held | (mconf < model_min))
                                    )
                                    # agreeing: the rules' reasons (or the model's: its own row)
                                    by_rules |= (agree == 1) & (agree_model < 0.5)
                                    sums.append(
                                        (
                                            np.where(by_rules[:, None], a[:, 0:5], a[:, 5:10]).sum(axis=0),
                                            len(a),
                                        )
                                    )
                                key = float(_figure_means(sums).sum())
                                if best is None or key > best[0] + 1e-9:
                                    best = (
                                        key,
                                        {
                                            **DEFAULTS,
                                            **answer,
                                            "rules_trust": trust,
                                            "model_override": override,
                                            "model_min": model_min,
                                            "model_on_review": on_review,
                                            "reason_threshold": rt,
                                            "agree_model_reasons": agree_model,
                                        },
                                    )
    settings = dict(best[1]) if best is not None else dict(DEFAULTS)
    settings.update(choose_review(folds))
    settings["model_review_threshold"] = settings["review_threshold"]
    return settings


REVIEW_RECALL = 0.85  # the bar: recall >= 85 %, at the best precision that allows


def choose_review(scored: Sequence[Scored] | Folds) -> dict[str, float]:
    """The review threshold of the review head: of the thresholds whose recall (averaged over the
    folds when given several) is at least ``REVIEW_RECALL``, the one with the best precision;
    when none reaches it, the one with the best recall. This is the head's own threshold (the model
    alone, and the combination of a model file without a review stack: ``fit_review_stack``)."""
    folds = [f for f in _as_folds(scored) if f]
    heads = [np.asarray([s.scores.review for s in f]) for f in folds]
    gold = [np.asarray([s.example.needs_review for s in f], dtype=bool) for f in folds]
    return {"review_mix": 0.0, "review_rules": 0.0, "review_threshold": review_threshold(heads, gold)}


def review_threshold(heads: Sequence[Any], gold: Sequence[Any]) -> float:
    """Of the thresholds whose recall (averaged over the folds) is at least ``REVIEW_RECALL``, the
    one with the best mean precision; when none reaches it, the one with the best recall."""
    best: tuple[tuple[float, float], float] | None = None
    for t in [x / 100 for x in range(95, 1, -1)]:
        precision = recall = 0.0
        for h, y in zip(heads, gold, strict=True):
            flag = h >= t
            tp, fp, fn = float((flag & y).sum()), float((flag & ~y).sum()), float((~flag & y).sum())
            precision += tp / (tp + fp) if tp + fp else 0.0
            recall += tp / (tp + fn) if tp + fn else 0.0
        precision, recall = precision / (len(heads) or 1), recall / (len(heads) or 1)
        key = (1.0, precision) if recall >= REVIEW_RECALL else (0.0, recall)
        if best is None or key > best[0]:
            best = (key, t)
    return best[1] if best is not None else 0.5


STACK_C = 1.0  # the stack's regularisation: 0.1, 1 and 10 gave the same precision (docs)


def _stack_rows(fold: Sequence[Scored], taxonomy: Taxonomy, settings: dict[str, float]) -> Any:
    rows = []
    for s in fold:
        kt = taxonomy.kind(s.example.kind)
        m = model_answer(s.scores, kt, settings=settings)
        rows.append(review_features(s.rules, s.scores, kt, m))
    return np.asarray(rows, dtype=np.float64)


def _fit_stack(X: Any, y: Any) -> ReviewStack:
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale < 1e-9] = 1.0  # a feature constant in the data: it adds nothing, divides by nothing
    clf = LogisticRegression(C=STACK_C, max_iter=2000)
    clf.fit((X - mean) / scale, y)
    return ReviewStack(
        coef=tuple(float(c) for c in clf.coef_[0]),
        bias=float(clf.intercept_[0]),
        mean=tuple(float(m) for m in mean),
        scale=tuple(float(x) for x in scale),
    )


def fit_review_stack(
    folds: Folds, taxonomy: Taxonomy, settings: dict[str, float]
) -> tuple[ReviewStack, float] | None:
    """The review stack fitted on every fold's held-out replies, and its threshold.

    The threshold is chosen (``review_threshold``) on probabilities each fold gets from a stack
    fitted on the other folds, so it is chosen for replies the stack never saw, as the model's
    settings are. ``None`` with fewer than two folds, or no review label on either side."""
    parts = [f for f in folds if f]
    if len(parts) < 2:
        return None
    X = [_stack_rows(f, taxonomy, settings) for f in parts]
    y = [np.asarray([s.example.needs_review for s in f], dtype=bool) for f in parts]
    every = np.concatenate(y)
    if every.all() or not every.any():
        return None
    held_out = []
    for k in range(len(parts)):
        rest_y = np.concatenate([y[j] for j in range(len(parts)) if j != k])
        if rest_y.all() or not rest_y.any():
            return None
        stack = _fit_stack(np.concatenate([X[j] for j in range(len(parts)) if j != k]), rest_y)
        held_out.append(np.asarray([stack.probability(row) for row in X[k]]))
    return _fit_stack(np.concatenate(X), every), review_threshold(held_out, y)


@dataclass
class TrainReport:
    C: float
    counts: dict[str, int]
    dev: dict[str, Any] = field(default_factory=dict)  # method -> figures (and per-fold figures)
    settings: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


def train(
    train_set: Sequence[Labelled],
    dev_set: Sequence[Labelled],
    *,
    taxonomy: Taxonomy | None = None,
    competitors: Sequence[Competitor] = CORPUS_COMPETITORS,
    c_grid: Sequence[float] = C_GRID,
    refit: bool = True,
    progress: Callable[[str], None] = lambda _m: None,
) -> tuple[ClassifierModel, TrainReport]:
    """Fit on ``train_set``, choose C and the combination on ``dev_set``, refit on both."""
    t0 = time.perf_counter()
    taxonomy = taxonomy or default_taxonomy()
    rules = RulesCache(taxonomy, competitors)
    best: tuple[float, float, ClassifierModel, list[Scored]] | None = None
    for C in c_grid:
        m = fit(train_set, rules, C=C)
        scored = score_all(m, dev_set, rules)
        f = figures_of(scored, taxonomy, lambda s: model_only(s, taxonomy, {}))
        key = f.outcome_acc + f.primary_acc + f.f1
        progress(f"C={C}: dev outcome {f.outcome_acc:.3f} primary {f.primary_acc:.3f} F1 {f.f1:.3f}")
        if best is None or key > best[0]:
            best = (key, C, m, scored)
    assert best is not None
    _, C, model, scored = best
    settings = tune_combination(scored, taxonomy) if scored else dict(DEFAULTS)
    dev = _three(scored, taxonomy, settings)
    progress(f"chosen C={C}; combination {settings}; dev {dev}")
    if refit and dev_set:
        model = fit([*train_set, *dev_set], rules, C=C)
    counts = {
        "train": sum(1 for e in train_set if not e.writer.startswith("correction")),
        "dev": len(dev_set),
        "corrections": sum(1 for e in train_set if e.writer.startswith("correction")),
    }
    meta = {**model.meta, "combine": {"*": settings}, "dev": dev, "counts": counts}
    report = TrainReport(C=C, counts=counts, dev=dev, settings=settings, seconds=time.perf_counter() - t0)
    return ClassifierModel(kinds=model.kinds, meta=meta), report


@dataclass(frozen=True)
class _Fit:
    """One fit of the leave-writers-out procedure, as sent to a process of the pool: every writer
    but those ``held`` (all of them when ``held`` is empty) plus ``extra`` at ``C``."""

    corpus: Sequence[Labelled]
    extra: Sequence[Labelled]
    taxonomy: Taxonomy
    competitors: Sequence[Competitor]
    C: float
    held: tuple[str, ...] = ()

    def fold(self) -> list[Scored]:
        """The held-out writers' replies scored by a model fitted without them."""
        rules = RulesCache(self.taxonomy, self.competitors)
        m = fit([*(e for e in self.corpus if e.writer not in self.held), *self.extra], rules, C=self.C)
        return score_all(m, [e for e in self.corpus if e.writer in self.held], rules)

    def everything(self) -> ClassifierModel:
        return fit([*self.corpus, *self.extra], RulesCache(self.taxonomy, self.competitors), C=self.C)


def _run_fold(task: _Fit) -> list[Scored]:
    return task.fold()


def _run_everything(task: _Fit) -> ClassifierModel:
    return task.everything()


class _Inline(Executor):
    """``jobs=1``: the same code path as the pool, each fit run where it is submitted."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        f: Future[Any] = Future()
        try:
            f.set_result(fn(*args, **kwargs))
        except Exception as exc:  # handed to the caller by the future, as a pool does
            f.set_exception(exc)
        return f


def _executor(jobs: int) -> Executor:
    """``jobs`` processes (spawned: the caller may be a threaded worker, where a fork is unsafe)."""
    if jobs <= 1:
        return _Inline()
    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"))


def train_by_writers(
    corpus: Sequence[Labelled],
    *,
    extra: Sequence[Labelled] = (),
    taxonomy: Taxonomy | None = None,
    competitors: Sequence[Competitor] = CORPUS_COMPETITORS,
    c_grid: Sequence[float] = (SHIPPED_C,),
    scored_folds: Sequence[Sequence[Scored]] | None = None,
    fitted: ClassifierModel | None = None,
    jobs: int = 1,
    groups: int = 0,
    progress: Callable[[str], None] = lambda _m: None,
) -> tuple[ClassifierModel, TrainReport]:
    """Leave one writer out: for each writer of ``corpus``, fit on the others (plus ``extra``, the
    corrections) and score that writer's replies; choose C (the model alone, when ``c_grid`` has
    several) and then the combination and review settings on the average over those folds, and fit
    the review stack on them (``fit_review_stack``); then fit the weights shipped on all of
    ``corpus`` + ``extra``. ``groups`` > 0 leaves out a group of writers at a time instead (the
    writers dealt into that many groups in number order): ``groups`` + 1 fits instead of one per
    writer and one, each held-out writer still new to the model that scores it.

    Each fold's held-out writer is new to its model, as a customer's reps are to the shipped one,
    so the settings are chosen for writers the model never saw rather than for one dev writer.
    ``scored_folds``: the folds already fitted and scored at the one C of ``c_grid`` (``bench/lowo.py
    --cache``), one per writer of ``corpus``; with ten writers a fold takes minutes, and the folds
    measured are then exactly the ones the settings are chosen on. ``fitted``: the weights already
    fitted on all of ``corpus`` + ``extra`` at that C (fitted beside the folds, in another process),
    kept instead of the last fit. ``jobs``: the fits run in that many processes (a fold of thirty-four
    writers fits some 17,700 replies: two to three minutes of CPU; one C is thirty-five fits), the fit on
    every writer beside the folds when there is one C to fit it at."""
    t0 = time.perf_counter()
    taxonomy = taxonomy or default_taxonomy()
    held = writer_groups(sorted({e.writer for e in corpus}), groups)
    if scored_folds is not None:
        given = [tuple(sorted({s.example.writer for s in f})) for f in scored_folds if f]
        if len(c_grid) != 1 or sorted(w for g in given for w in g) != sorted(w for g in held for w in g):
            raise ValueError("scored_folds must hold each writer of the corpus in one fold, at one C")
        held = given
    with _executor(jobs) as pool:
        return _by_writers(
            pool, corpus, extra, taxonomy, competitors, c_grid, scored_folds, fitted, held, progress, t0
        )


def writer_groups(writers: Sequence[str], groups: int = 0) -> list[tuple[str, ...]]:
    """The folds' held-out writers: one each, or dealt into ``groups`` groups in number order."""
    ordered = sorted(writers, key=lambda w: (len(w), w))
    if groups <= 0 or groups >= len(ordered):
        return [(w,) for w in ordered]
    return [tuple(ordered[i::groups]) for i in range(groups)]


def _by_writers(
    pool: Executor,
    corpus: Sequence[Labelled],
    extra: Sequence[Labelled],
    taxonomy: Taxonomy,
    competitors: Sequence[Competitor],
    c_grid: Sequence[float],
    scored_folds: Sequence[Sequence[Scored]] | None,
    fitted: ClassifierModel | None,
    held: list[tuple[str, ...]],
    progress: Callable[[str], None],
    t0: float,
) -> tuple[ClassifierModel, TrainReport]:
    """``train_by_writers`` with its fits submitted to ``pool``."""
    task = _Fit(corpus, extra, taxonomy, tuple(competitors), c_grid[0])
    # one C: the fit on every writer can start beside the folds (it is the longest)
    early = pool.submit(_run_everything, task) if fitted is None and len(c_grid) == 1 else None
    best: tuple[float, float, list[list[Scored]]] | None = None
    for C in c_grid:
        folds: list[list[Scored]] = [list(f) for f in scored_folds or ()]
        if scored_folds is None:
            pending = [pool.submit(_run_fold, replace(task, C=C, held=g)) for g in held]
            for n, (g, fut) in enumerate(zip(held, pending, strict=True), 1):
                folds.append(fut.result())
                name = "+".join(g)
                progress(f"C={C:g}: fold {name} scored by a model fitted without it ({n} of {len(held)})")
        f = _mean_figures(folds, lambda s: model_only(s, taxonomy, {}), taxonomy)
        key = f["outcome"] + f["primary"] + f["f1"]
        progress(
            f"C={C:g}: model alone, mean over folds: outcome {f['outcome']:.3f} "
            f"primary {f['primary']:.3f} F1 {f['f1']:.3f}"
        )
        if best is None or key > best[0]:
            best = (key, C, folds)
    assert best is not None
    _, C, folds = best
    settings = tune_combination(folds, taxonomy) if any(folds) else dict(DEFAULTS)
    fitted_stack = fit_review_stack(folds, taxonomy, settings)
    stack = None
    if fitted_stack is not None:
        stack, settings["review_threshold"] = fitted_stack
    per_fold = {
        "+".join(g): _three(scored, taxonomy, settings, stack) for g, scored in zip(held, folds, strict=True)
    }
    pooled = [s for fold in folds for s in fold]
    dev: dict[str, Any] = {**_three(pooled, taxonomy, settings, stack), "folds": per_fold}
    progress(f"chosen C={C:g}, combination {settings}; out-of-fold {dev}")
    if fitted is not None and fitted.meta.get("C") != C:
        raise ValueError(f"the fitted weights are at C={fitted.meta.get('C')}, the folds at C={C:g}")
    if fitted is not None:
        model = fitted
    elif early is not None:
        model = early.result()
    else:
        model = pool.submit(_run_everything, replace(task, C=C)).result()
    counts = {"train": len(corpus), "dev": 0, "corrections": len(extra)}
    grid = ", ".join(f"{c:g}" for c in c_grid)
    how = "leave one writer out over " if all(len(g) == 1 for g in held) else "leave a group of writers out: "
    meta = {
        **model.meta,
        "combine": {"*": settings},
        "dev": dev,
        "counts": counts,
        "selection": f"{how}{', '.join('+'.join(g) for g in held)}; C={C:g} of {grid}",
    }
    if stack is not None:
        meta["review_stack"] = stack.to_meta()
    report = TrainReport(C=C, counts=counts, dev=dev, settings=settings, seconds=time.perf_counter() - t0)
    return ClassifierModel(kinds=model.kinds, meta=meta), report


def _three(
    scored: Sequence[Scored], taxonomy: Taxonomy, settings: dict[str, float], stack: ReviewStack | None = None
) -> dict[str, dict[str, float | int | None]]:
    """Rules alone, model alone and combined figures of scored replies."""
    return {
        "rules": figures_of(scored, taxonomy, lambda s: s.rules).as_dict(),
        "model": figures_of(scored, taxonomy, lambda s: model_only(s, taxonomy, settings)).as_dict(),
        "combined": figures_of(
            scored,
            taxonomy,
            lambda s: combine(
                s.rules, s.scores, taxonomy.kind(s.example.kind), settings=settings, stack=stack
            ),
        ).as_dict(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description="Refit the shipped classifier model")
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("classifier.npz"))
    ap.add_argument(
        "--dev-writer",
        action="store_true",
        help="the older procedure: choose C and the combination on DEV W4 alone",
    )
    ap.add_argument(
        "--c-grid",
        type=float,
        nargs="+",
        default=[SHIPPED_C],
        help="regularisation strengths tried by leaving one writer out (each adds four fits)",
    )
    ap.add_argument(
        "--folds",
        type=Path,
        help="bench/lowo.py --cache folds (fitted at the one C of --c-grid): not refitted",
    )
    ap.add_argument("--weights", type=Path, help="a model file fitted on all the writers at that C: kept")
    ap.add_argument("--jobs", type=int, default=1, help="fit the folds in this many processes")
    ap.add_argument(
        "--groups", type=int, default=0, help="leave a group of writers out at a time, in this many groups"
    )
    args = ap.parse_args()
    if args.dev_writer:
        model, report = train(
            shipped_corpus(EARLY_TRAIN_WRITERS), shipped_corpus(DEV_WRITERS), progress=print
        )
    else:
        folds = pickle.loads(args.folds.read_bytes()) if args.folds else None
        fitted = ClassifierModel.from_bytes(args.weights.read_bytes()) if args.weights else None
        model, report = train_by_writers(
            shipped_corpus(),
            c_grid=args.c_grid,
            scored_folds=folds,
            fitted=fitted,
            jobs=args.jobs,
            groups=args.groups,
            progress=print,
        )
    args.out.write_bytes(model.to_bytes())
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB) in {report.seconds:.0f} s")
    print(json.dumps(report.dev, indent=1))


if __name__ == "__main__":
    main()
