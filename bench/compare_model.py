"""Rules alone vs model alone vs combined, on every labelled set; and parse + classify speed.

Called by ``bench/classify_accuracy.py`` (its default run). The model is the one shipped with the
package (``feedback/classify/model/classifier.npz``); its combination and review settings were
chosen by leaving one writer out over the shipped writers (``train.train_by_writers``) and travel
inside it. The TEST part is every ``bench/labelled/W*.jsonl`` (writers the model never saw).
``previous`` (``classify_accuracy.py --previous FILE``): an earlier model file, scored in the same
run beside the shipped one (its model-alone and combined figures, and its speed), so a refit is
compared with what it replaces on the same replies, rules and machine.
"""

from __future__ import annotations

import json
import tempfile
import time
import tomllib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from feedback.classify import ClassificationResult, classify
from feedback.classify.model import ClassifierModel, shipped_model
from feedback.classify.model.combine import combine, knows, model_answer
from feedback.classify.model.figures import Figures
from feedback.classify.model.review_flag import ReviewStack
from feedback.core.analysis import AnalysisConfig, analyse
from feedback.core.competitor_list import Competitor
from feedback.core.taxonomy import Taxonomy, default_taxonomy

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CORPUS_COMPETITORS = (
    Competitor(name="Contoso Suite", aliases=("contoso",)),
    Competitor(name="Fabrikam Analytics", aliases=("fabrikam", "fab")),
    Competitor(name="Tailspin CRM", aliases=("tailspin",)),
    Competitor(name="Wingtip Data", aliases=("wingtip",)),
    Competitor(name="Litware Cloud", aliases=("litware",)),
)
METHODS = ("rules", "model", "combined")
# The TEST writers in parts, each printed on its own: W7-W9 were scored at the end of each of
# four model versions (stops 13-16) and so have seen the choice of which version shipped; W46-W49
# were written at stop 21 and are scored once, for the model that stop ships, decided before they
# were read. (TEST-B, W38-W41, scored once at stop 16, and TEST-C, W42-W45, scored once at stop
# 17, are training data since.)
TEST_PARTS = (("TEST", ("W7", "W8", "W9")), ("TEST-D", ("W46", "W47", "W48", "W49")))


def _read(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [r for r in rows if r["gold"].get("classification", "reply") == "reply"]


def test_writers(folder: Path = BENCH / "labelled") -> tuple[list[str], list[dict[str, Any]]]:
    """The TEST writers (every ``W*.jsonl`` in ``folder``, in number order) and their replies."""
    paths = sorted(folder.glob("W*.jsonl"), key=lambda p: (len(p.stem), p.stem))
    return [p.stem for p in paths], [r for p in paths for r in _read(p)]


def labelled_sets(corpus_dir: Path) -> list[tuple[str, list[dict[str, Any]], tuple[Competitor, ...]]]:
    with open(BENCH / "heldout" / "feedback.toml", "rb") as f:
        heldout_comps = tuple(Competitor(**c) for c in tomllib.load(f).get("competitors", []))
    sets = []
    writers, test = test_writers()
    parts = [(name, [w for w in writers if w in members]) for name, members in TEST_PARTS]
    parts.append(("TEST (other)", [w for w in writers if not any(w in m for _, m in TEST_PARTS)]))
    for name, part in parts:
        rows = [r for r in test if r.get("writer") in part]
        if rows:
            sets.append((f"{name} writers {'+'.join(part)}", rows, CORPUS_COMPETITORS))
    if len([p for p in parts if p[1]]) > 1:
        sets.append((f"all TEST writers {'+'.join(writers)}", test, CORPUS_COMPETITORS))
    for path in sorted((BENCH / "heldout").glob("set_*.jsonl")):
        sets.append((f"held-out {path.stem}", _read(path), heldout_comps))
    sets.append(("tests/corpus", _read(corpus_dir / "cases.jsonl"), CORPUS_COMPETITORS))
    return sets


def three_ways(
    text: str, kind: str, taxonomy: Taxonomy, model: ClassifierModel, comps: tuple[Competitor, ...]
) -> dict[str, ClassificationResult]:
    rules = classify(text, kind=kind, taxonomy=taxonomy, competitors=comps)
    out = {"rules": rules, "model": rules, "combined": rules}
    if not knows(model, kind, rules):
        return out
    scores = model.score(text, kind=kind, rules=rules)
    if scores is None:
        return out
    settings = {**model.meta.get("combine", {}).get("*", {}), **model.meta.get("combine", {}).get(kind, {})}
    kt = taxonomy.kind(kind)
    m = model_answer(scores, kt, settings=settings)
    threshold = settings.get("model_review_threshold", settings.get("review_threshold", 0.5))
    out["model"] = replace(
        rules, outcome=m.outcome, reasons=m.reasons, needs_review=scores.review >= threshold
    )
    # the review stack the file carries, as the worker uses it (classify_with_model)
    stack = ReviewStack.from_meta(model.meta.get("review_stack"))
    out["combined"] = combine(rules, scores, kt, settings=settings, stack=stack)
    return out


def _fmt(x: float | None, pct: bool = True) -> str:
    if x is None:
        return "-"
    return f"{100 * x:.1f}" if pct else f"{x:.3f}"


def compare(corpus_dir: Path, previous: Path | None = None) -> None:
    model = shipped_model()
    if model is None:
        raise SystemExit("no shipped model: python -m feedback.classify.model.train")
    before = ClassifierModel.from_bytes(previous.read_bytes()) if previous else None
    taxonomy = default_taxonomy()
    for label, m in (("model", model), ("previous", before)):
        if m is not None:
            counts = m.meta.get("counts", {})
            print(f"{label}: C={m.meta.get('C')}, fitted on {counts}; {m.meta.get('selection', '')}")
            print(f"    combination {m.meta.get('combine')}")
    methods = METHODS + (("prev-model", "prev-comb") if before is not None else ())
    writers, _ = test_writers()
    shown = ", ".join(writers) if writers else "none (bench/labelled/ holds no W*.jsonl)"
    print(f"TEST writers (bench/labelled/, never trained or tuned on): {shown}")
    head = (
        f"{'set / group':<34}{'method':<10}{'n':>5}{'outcome':>9}{'primary':>9}"
        f"{'F1':>7}{'revP':>7}{'revR':>7}"
    )
    for name, rows, comps in labelled_sets(corpus_dir):
        groups: dict[tuple[str, str], Figures] = defaultdict(Figures)
        for case in rows:
            g = case["gold"]
            got = three_ways(case["reply_text"], case["kind"], taxonomy, model, comps)
            if before is not None:
                old = three_ways(case["reply_text"], case["kind"], taxonomy, before, comps)
                got["prev-model"], got["prev-comb"] = old["model"], old["combined"]
            for method, r in got.items():
                for group in ("all", f"lang={case['lang']}"):
                    groups[(group, method)].add(
                        g["outcome"], g["reasons"], g["needs_review"], r.outcome, r.reasons, r.needs_review
                    )
        print()
        print(f"== {name} ({len(rows)} replies)")
        print(head)
        for group in sorted({k[0] for k in groups}, key=lambda k: (k != "all", k)):
            for method in methods:
                f = groups[(group, method)]
                print(
                    f"{group:<34}{method:<10}{f.n:>5}{_fmt(f.outcome_acc):>9}{_fmt(f.primary_acc):>9}"
                    f"{_fmt(f.f1, False):>7}{_fmt(f.review_precision):>7}{_fmt(f.review_recall):>7}"
                )
    print()
    print("targets on TEST: outcome >= 96, primary >= 88, reason F1 >= 0.90, review P >= 75 at R >= 85")
    speed(corpus_dir, model, before=before)


def speed(
    corpus_dir: Path, model: ClassifierModel, repeats: int = 5, before: ClassifierModel | None = None
) -> None:
    """Parse + classify per message (.eml of the corpus through analyse), best of ``repeats``,
    with and without the model, in CPU time of this process (one core)."""
    from _corpus import build_corpus

    with tempfile.TemporaryDirectory() as tmp:
        rows = [r for r in build_corpus(tmp, corpus_dir)]
        msgs = [((Path(tmp) / r["file"]).read_bytes(), r["kind"]) for r in rows]

    def run(config: AnalysisConfig) -> Callable[[], None]:
        def go() -> None:
            for raw, kind in msgs:
                analyse(raw, kind=kind, config=config)

        return go

    def best(fn: Callable[[], None]) -> float:
        fn()  # warm caches
        times = []
        for _ in range(repeats):
            t0 = time.process_time()
            fn()
            times.append(time.process_time() - t0)
        return len(msgs) / min(times)

    rules_rate = best(run(AnalysisConfig(competitors=CORPUS_COMPETITORS)))
    model_rate = best(run(AnalysisConfig(competitors=CORPUS_COMPETITORS, model=model)))
    prev = ""
    if before is not None:
        prev_rate = best(run(AnalysisConfig(competitors=CORPUS_COMPETITORS, model=before)))
        prev = f", rules + previous model {prev_rate:,.0f} messages/s"
    print(
        f"parse + classify, {len(msgs)} corpus .eml, best of {repeats} (CPU time, one core): "
        f"rules alone {rules_rate:,.0f} messages/s, rules + model {model_rate:,.0f} messages/s{prev}"
    )
