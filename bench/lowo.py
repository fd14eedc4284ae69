"""Leave-one-writer-out figures over the shipped writers (a measurement script, not a held-out figure).

    python bench/lowo.py [--cache FOLDS.pkl] [--C 30] [--jobs N] [--also W1 W2 ...]

For each shipped writer (``feedback/data/labelled/W*.jsonl``): fit the model on the other writers,
score the held-out writer's replies; then choose the combination and review settings on the
average over the folds (``train.tune_combination``, as ``train_by_writers`` does) and print, for
the rules alone, the model alone and combined, the mean over the folds of outcome accuracy,
primary-reason accuracy, reason-set F1 and review precision / recall, overall and per language.
These figures are what the settings were chosen on: they are no held-out measurement (the TEST
writers in ``bench/labelled/`` are that). ``--cache`` keeps the scored folds, so a second run
re-tunes without refitting (and ``python -m feedback.classify.model.train --folds FOLDS.pkl``
fits the shipped weights from it without refitting the folds). ``--also``: the same table again
over some of the folds only (the settings still chosen on all), e.g. the writers an earlier
LOWO run had, to compare on the same held-out writers.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedback.classify.classification import ClassificationResult
from feedback.classify.model.combine import combine
from feedback.classify.model.review_flag import ReviewStack
from feedback.classify.model.train import (
    SHIPPED_C,
    RulesCache,
    Scored,
    fit,
    fit_review_stack,
    model_only,
    score_all,
    shipped_corpus,
    tune_combination,
)
from feedback.core.taxonomy import Taxonomy, default_taxonomy

Folds = list[list[Scored]]


def fit_fold(C: float, writer: str) -> list[Scored]:
    """One fold: a model fitted on every shipped writer but ``writer``, scoring ``writer``'s replies."""
    t0 = time.process_time()
    rules = RulesCache(default_taxonomy())
    corpus = shipped_corpus()
    model = fit([e for e in corpus if e.writer != writer], rules, C=C)
    scored = score_all(model, [e for e in corpus if e.writer == writer], rules)
    print(f"fold {writer}: fitted on the other writers, {time.process_time() - t0:.0f} s CPU", flush=True)
    return scored


def fit_folds(C: float, jobs: int = 1) -> Folds:
    """Every writer's fold; ``jobs`` > 1 fits them in that many processes (ten writers' folds take
    about 20 minutes of CPU: a fold fits some 5,600 replies)."""
    writers = sorted({e.writer for e in shipped_corpus()})
    if jobs <= 1:
        return [fit_fold(C, w) for w in writers]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(partial(fit_fold, C), writers))


def means(
    folds: Sequence[Sequence[Scored]],
    how: Callable[[Scored], ClassificationResult],
    taxonomy: Taxonomy,
    lang: str = "",
) -> dict[str, float]:
    from feedback.classify.model.figures import Figures

    per = []
    for fold in folds:
        f = Figures()
        for s in fold:
            if lang and s.example.lang != lang:
                continue
            r = how(s)
            e = s.example
            f.add(e.outcome, e.reasons, e.needs_review, r.outcome, r.reasons, r.needs_review)
        if f.n:
            per.append(f)
    n = len(per) or 1
    return {
        "n": sum(f.n for f in per),
        "outcome": sum(f.outcome_acc for f in per) / n,
        "primary": sum(f.primary_acc for f in per) / n,
        "f1": sum(f.f1 for f in per) / n,
        "precision": sum(f.review_precision or 0.0 for f in per) / n,
        "recall": sum(f.review_recall or 0.0 for f in per) / n,
    }


def report(
    folds: Folds, settings: dict[str, float], taxonomy: Taxonomy, stack: ReviewStack | None = None
) -> None:
    ways: dict[str, Callable[[Scored], ClassificationResult]] = {
        "rules": lambda s: s.rules,
        "model": lambda s: model_only(s, taxonomy, settings),
        "combined": lambda s: combine(
            s.rules, s.scores, taxonomy.kind(s.example.kind), settings=settings, stack=stack
        ),
    }
    writers = [fold[0].example.writer for fold in folds if fold]
    print(
        f"LOWO over {', '.join(writers)}: mean of the {len(writers)} folds "
        "(outcome / primary / F1 / review P / R)"
    )
    langs = sorted({s.example.lang for fold in folds for s in fold})
    for group in ["", *langs]:
        for name, how in ways.items():
            f = means(folds, how, taxonomy, group)
            print(
                f"{group or 'all':<5}{name:<10}{f['n']:>6}  {100 * f['outcome']:5.1f} / "
                f"{100 * f['primary']:5.1f} / {f['f1']:.3f} / "
                f"{100 * f['precision']:3.0f} / {100 * f['recall']:3.0f}"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path)
    ap.add_argument("--C", type=float, default=SHIPPED_C)
    ap.add_argument("--jobs", type=int, default=1, help="fit the folds in this many processes")
    ap.add_argument("--also", nargs="+", default=[], help="also report over these writers' folds only")
    args = ap.parse_args()
    taxonomy = default_taxonomy()
    if args.cache and args.cache.exists():
        folds = pickle.loads(args.cache.read_bytes())
    else:
        folds = fit_folds(args.C, args.jobs)
        if args.cache:
            args.cache.write_bytes(pickle.dumps(folds))
    settings = tune_combination(folds, taxonomy)
    # the review stack and its threshold, as train_by_writers fits them (combined = the product)
    fitted = fit_review_stack(folds, taxonomy, settings)
    stack = None
    if fitted is not None:
        stack, settings["review_threshold"] = fitted
    print(f"settings chosen on the fold means: {settings}")
    report(folds, settings, taxonomy, stack)
    if args.also:
        print()
        report([f for f in folds if f and f[0].example.writer in args.also], settings, taxonomy, stack)


if __name__ == "__main__":
    main()
