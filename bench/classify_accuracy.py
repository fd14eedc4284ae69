"""Classifier accuracy: rules alone vs the trained model alone vs both combined (a measurement script).

    python bench/classify_accuracy.py                 # all sets, one run: the comparison and the speed
    python bench/classify_accuracy.py --previous OLD.npz   # and an earlier model file beside it
    python bench/classify_accuracy.py --corpus-only [--gold-text] [--corpus-dir DIR] [--show-failures]

Default: for the test writers' replies (every ``bench/labelled/W*.jsonl``, printed by name; never
read to make any rule, feature, threshold or model choice), every earlier held-out set
(``bench/heldout/set_*.jsonl``) and the corpus (``tests/corpus``, gold reply text), prints per
language outcome accuracy, primary-reason accuracy, reason-set micro F1 and review precision /
recall, for the rules alone, the shipped model alone (its review head at the threshold chosen on
dev) and the two combined; then parse + classify speed on one core.

``--corpus-only``: every .eml goes through ``feedback.core.analysis.analyse`` (parser + classifier, the corpus
competitor list), so the figures move with the parser too. ``--gold-text`` classifies each case's
gold ``reply_text`` directly, which isolates the classifier from parser errors.

Counts replies only (gold classification ``reply``). Prints outcome accuracy, primary-reason
accuracy, reason-set micro F1, competitor accuracy (all replies, and those naming one),
needs_review precision/recall, each overall and per language, and the mean classify time per
reply beside a baseline (lower-casing the text) measured in the same process.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
# heldout_accuracy.py --before sets BENCH_CODE_ROOT: another commit's package first on the path
sys.path.insert(0, os.environ.get("BENCH_CODE_ROOT") or str(Path(__file__).resolve().parent.parent))

from feedback.classify import classify
from feedback.core.competitor_list import Competitor
from feedback.core.taxonomy import default_taxonomy

DEFAULT_CORPUS_DIR = Path(__file__).resolve().parent.parent / "tests" / "corpus"

# The corpus README's competitor configuration.
CORPUS_COMPETITORS = (
    Competitor(name="Contoso Suite", aliases=("contoso",)),
    Competitor(name="Fabrikam Analytics", aliases=("fabrikam", "fab")),
    Competitor(name="Tailspin CRM", aliases=("tailspin",)),
    Competitor(name="Wingtip Data", aliases=("wingtip",)),
    Competitor(name="Litware Cloud", aliases=("litware",)),
)


class Tally:
    """Counts for one group of replies."""

    def __init__(self) -> None:
        self.n = self.outcome = self.primary = self.comp = self.comp_named = self.comp_named_ok = 0
        self.tp = self.fp = self.fn = 0
        self.rv_tp = self.rv_fp = self.rv_fn = 0

    def add(self, gold: dict[str, Any], got: dict[str, Any]) -> None:
        self.n += 1
        self.outcome += gold["outcome"] == got["outcome"]
        self.primary += gold["reasons"][:1] == got["reasons"][:1]
        g, p = set(gold["reasons"]), set(got["reasons"])
        self.tp += len(g & p)
        self.fp += len(p - g)
        self.fn += len(g - p)
        self.comp += gold["competitor"] == got["competitor"]
        if gold["competitor"]:
            self.comp_named += 1
            self.comp_named_ok += gold["competitor"] == got["competitor"]
        if gold["needs_review"] and got["needs_review"]:
            self.rv_tp += 1
        elif got["needs_review"]:
            self.rv_fp += 1
        elif gold["needs_review"]:
            self.rv_fn += 1

    def row(self) -> dict[str, float | int | None]:
        def pct(a: int, b: int) -> float | None:
            return round(100.0 * a / b, 1) if b else None

        f1 = 2 * self.tp / (2 * self.tp + self.fp + self.fn) if (self.tp + self.fp + self.fn) else 1.0
        return {
            "n": self.n,
            "outcome%": pct(self.outcome, self.n),
            "primary%": pct(self.primary, self.n),
            "reasonF1": round(f1, 3),
            "comp%": pct(self.comp, self.n),
            "comp_named%": pct(self.comp_named_ok, self.comp_named),
            "review_P%": pct(self.rv_tp, self.rv_tp + self.rv_fp),
            "review_R%": pct(self.rv_tp, self.rv_tp + self.rv_fn),
        }


def load_cases(corpus_dir: Path) -> list[dict[str, Any]]:
    with open(corpus_dir / "cases.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def run_gold_text(corpus_dir: Path) -> list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    taxonomy = default_taxonomy()
    out = []
    for case in load_cases(corpus_dir):
        if case["gold"]["classification"] != "reply":
            continue
        r = classify(case["reply_text"], kind=case["kind"], taxonomy=taxonomy, competitors=CORPUS_COMPETITORS)
        got = {
            "outcome": r.outcome,
            "reasons": list(r.reasons),
            "competitor": r.competitor,
            "needs_review": r.needs_review,
            "explanation": list(r.explanation),
            "text": case["reply_text"],
        }
        out.append((case, case["gold"], got))
    return out


def run_eml(corpus_dir: Path) -> list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    from _corpus import build_corpus

    from feedback.core.analysis import AnalysisConfig, analyse

    config = AnalysisConfig(competitors=CORPUS_COMPETITORS)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for row in build_corpus(tmp, corpus_dir):
            if row["gold"]["classification"] != "reply":
                continue
            raw = (Path(tmp) / row["file"]).read_bytes()
            a = analyse(raw, kind=row["kind"], config=config)
            j = a.to_json(file=row["file"])
            if j["classification"] != "reply":
                j["needs_review"] = False
            got = {
                "outcome": j["outcome"],
                "reasons": j["reasons"],
                "competitor": j["competitor"],
                "needs_review": j["needs_review"],
                "explanation": list(a.result.explanation) if a.result else [j["classification"]],
                "text": j["reply_text"],
            }
            out.append((row, row["gold"], got))
    return out


def time_classify(corpus_dir: Path, rounds: int = 10, repeats: int = 7) -> tuple[float, float]:
    """(µs per classify call, µs per baseline call) over the corpus replies, best of ``repeats``
    (the minimum is the figure least disturbed by other work on the machine)."""
    taxonomy = default_taxonomy()
    cases = [c for c in load_cases(corpus_dir) if c["gold"]["classification"] == "reply"]
    texts = [(c["reply_text"], c["kind"]) for c in cases]
    for text, kind in texts:  # warm the compiled lexicons
        classify(text, kind=kind, taxonomy=taxonomy, competitors=CORPUS_COMPETITORS)

    def product() -> None:
        for text, kind in texts:
            classify(text, kind=kind, taxonomy=taxonomy, competitors=CORPUS_COMPETITORS)

    def baseline() -> None:
        for text, _ in texts:
            text.lower().split()

    def best(fn: Callable[[], None]) -> float:
        runs = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            for _ in range(rounds):
                fn()
            runs.append(time.perf_counter() - t0)
        return 1e6 * min(runs) / (rounds * len(texts))

    return best(product), best(baseline)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus-only", action="store_true", help="the corpus only, rules alone (as before)")
    ap.add_argument("--gold-text", action="store_true", help="classify gold reply_text (no parser)")
    ap.add_argument("--corpus-dir", type=Path, default=DEFAULT_CORPUS_DIR)
    ap.add_argument("--show-failures", action="store_true")
    ap.add_argument("--previous", type=Path, help="an earlier model file, scored beside the shipped one")
    args = ap.parse_args()
    if not args.corpus_only:
        from compare_model import compare

        compare(args.corpus_dir, previous=args.previous)
        return

    results = run_gold_text(args.corpus_dir) if args.gold_text else run_eml(args.corpus_dir)
    groups: dict[str, Tally] = defaultdict(Tally)
    for case, gold, got in results:
        for key in ("all", f"lang={case['lang']}", f"kind={case['kind']}"):
            groups[key].add(gold, got)
        bad = (
            gold["outcome"] != got["outcome"]
            or gold["reasons"] != got["reasons"]
            or gold["competitor"] != got["competitor"]
            or gold["needs_review"] != got["needs_review"]
        )
        if args.show_failures and bad:
            print(f"--- {case['id']} ({case['lang']}, {case.get('client')})")
            print("    text:", (got["text"] or "").replace("\n", " / ")[:300])
            print(
                "    gold:",
                gold["outcome"],
                gold["reasons"],
                gold["competitor"],
                "review" if gold["needs_review"] else "",
            )
            print(
                "    got: ",
                got["outcome"],
                got["reasons"],
                got["competitor"],
                "review" if got["needs_review"] else "",
            )
            print("    why: ", "; ".join(got["explanation"]))

    mode = (
        "gold reply_text (classifier only)"
        if args.gold_text
        else ".eml through analyse() (parser + classifier)"
    )
    print(f"classify accuracy over {mode}, replies only")
    cols = ["n", "outcome%", "primary%", "reasonF1", "comp%", "comp_named%", "review_P%", "review_R%"]
    print(f"{'group':<18}" + "".join(f"{c:>12}" for c in cols))
    for key in sorted(groups, key=lambda k: (k != "all", k)):
        row = groups[key].row()
        print(f"{key:<18}" + "".join(f"{'-' if row[c] is None else row[c]!s:>12}" for c in cols))
    print("targets: outcome >= 95, primary >= 85, reason F1 >= 0.90, competitor >= 95, review recall >= 80")
    per_call, baseline = time_classify(args.corpus_dir)
    print(
        f"classify: {per_call:.1f} µs per reply, best of 7 (baseline str.lower().split(): {baseline:.2f} µs);"
        f" {1e6 / per_call:,.0f} replies/s on one core"
    )


if __name__ == "__main__":
    main()
