"""Label-noise check of the labelled corpus with cleanlab (the shipped TRAIN writers only).

    python bench/label_noise.py [--folds 5] [--json OUT] [--flag-writers W10 W11 ...]

Cross-validated probabilities (the model's own featuriser and a logistic regression per kind,
each reply scored by a fit that never saw it) for two labels of each reply: its outcome and its
primary reason. ``cleanlab.filter.find_label_issues`` ranks the replies whose given label the
other replies contradict most; they are printed (``--json``: written) for a second reading, and a
clear label error found that way is fixed in the writer's file with a note in
bench/labelled/README.md. The probabilities come from every shipped writer; ``--flag-writers``
reports the flags of some of them only (the writers just added). The test writers
(``bench/labelled/``) are never read here.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from cleanlab.filter import find_label_issues
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedback.classify.model.features import featurise
from feedback.classify.model.scorer import NONE
from feedback.classify.model.train import TRAIN_WRITERS, RulesCache, _matrix, shipped_corpus
from feedback.core.taxonomy import default_taxonomy


def cv_probs(X, y: list[str], folds: int) -> tuple[np.ndarray, list[str]]:
    classes = sorted(set(y))
    idx = np.asarray([classes.index(v) for v in y])
    counts = Counter(idx.tolist())
    k = max(2, min(folds, min(counts.values())))
    probs = np.zeros((len(y), len(classes)))
    for train_i, test_i in StratifiedKFold(k, shuffle=True, random_state=0).split(np.zeros(len(y)), idx):
        clf = LogisticRegression(C=10.0, max_iter=3000).fit(X[train_i], idx[train_i])
        probs[np.ix_(test_i, clf.classes_)] = clf.predict_proba(X[test_i])
    return probs, classes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--json", type=Path, help="write the flagged replies here")
    ap.add_argument("--flag-writers", nargs="+", default=list(TRAIN_WRITERS), help="report these only")
    args = ap.parse_args()
    examples = shipped_corpus(TRAIN_WRITERS)
    rules = RulesCache(default_taxonomy())
    flagged = []
    for kind in sorted({e.kind for e in examples}):
        ex = [e for e in examples if e.kind == kind]
        feats = [featurise(e.text, rules(kind, e.text)) for e in ex]
        df: Counter[str] = Counter()
        for f in feats:
            df.update(set(f.names))
        vocab = {n: i for i, n in enumerate(sorted(n for n, c in df.items() if c >= 2))}
        X = _matrix([(f.names, f.values) for f in feats], vocab)
        for label in ("outcome", "primary"):
            y = [
                (e.outcome or NONE) if label == "outcome" else (e.reasons[0] if e.reasons else NONE)
                for e in ex
            ]
            probs, classes = cv_probs(X, y, args.folds)
            labels = np.asarray([classes.index(v) for v in y])
            issues = find_label_issues(labels, probs, return_indices_ranked_by="self_confidence")
            issues = [i for i in issues if ex[i].writer in args.flag_writers]
            shown = sum(e.writer in args.flag_writers for e in ex)
            print(f"{kind} {label}: {len(issues)} of {shown} flagged")
            for i in issues:
                flagged.append(
                    {
                        "id": ex[i].id,
                        "writer": ex[i].writer,
                        "kind": kind,
                        "label": label,
                        "given": y[i],
                        "suggested": classes[int(probs[i].argmax())],
                        "p_given": round(float(probs[i][labels[i]]), 3),
                        "outcome": ex[i].outcome,
                        "reasons": list(ex[i].reasons),
                        "review": ex[i].needs_review,
                        "text": ex[i].text,
                    }
                )
    n = sum(e.writer in args.flag_writers for e in examples)
    print(f"{len(flagged)} flags on {len({f['id'] for f in flagged})} replies of {n}")
    if args.json:
        args.json.write_text("\n".join(json.dumps(f, ensure_ascii=False) for f in flagged) + "\n")


if __name__ == "__main__":
    main()
