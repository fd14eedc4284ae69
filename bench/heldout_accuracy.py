"""Classifier accuracy on held-out replies (a measurement script, not a test).

    python bench/heldout_accuracy.py [--set FILE ...] [--config FILE] [--quiet] [--before REF]

The held-out sets in ``bench/heldout/`` are rep replies written apart from the corpus (and, for
``set_b``, after the lexicon was last tuned), labelled like the corpus ``gold`` field. Each reply
is classified from its text through the public ``feedback.classify.classify`` with the default
taxonomy and the competitors of ``bench/heldout/feedback.toml``. Prints, overall and per set,
language and kind: outcome accuracy, primary-reason accuracy, reason-set micro F1, competitor
accuracy (all replies, and those naming one), needs_review precision/recall; then every miss.
``--before REF`` first prints the same table for the classifier of git commit REF (its tree
extracted with ``git archive`` and run in a subprocess, this script's sets and config).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
# --before runs this file again with another commit's package first on the path
sys.path.insert(0, os.environ.get("BENCH_CODE_ROOT") or str(Path(__file__).resolve().parent.parent))

from classify_accuracy import Tally

from feedback.classify import classify
from feedback.core.competitor_list import Competitor
from feedback.core.taxonomy import default_taxonomy

ROOT = Path(__file__).resolve().parent.parent
HELDOUT_DIR = Path(__file__).resolve().parent / "heldout"


def load_competitors(path: Path) -> tuple[Competitor, ...]:
    with open(path, "rb") as f:
        data = tomllib.load(f)
    return tuple(Competitor(**c) for c in data.get("competitors", []))


def load_set(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--set", dest="sets", type=Path, action="append", help="a .jsonl set (default: all in bench/heldout/)"
    )
    ap.add_argument("--config", type=Path, default=HELDOUT_DIR / "feedback.toml", help="competitor list")
    ap.add_argument("--quiet", action="store_true", help="figures only, no list of misses")
    ap.add_argument("--before", metavar="REF", help="first the same figures for commit REF's classifier")
    args = ap.parse_args()
    if args.before:
        _before(args.before, sys.argv[1:])

    sets = args.sets or sorted(HELDOUT_DIR.glob("*.jsonl"))
    competitors = load_competitors(args.config)
    taxonomy = default_taxonomy()
    groups: dict[str, Tally] = defaultdict(Tally)
    misses: list[str] = []
    for path in sets:
        for case in load_set(path):
            gold = case["gold"]
            r = classify(case["reply_text"], kind=case["kind"], taxonomy=taxonomy, competitors=competitors)
            got = {
                "outcome": r.outcome,
                "reasons": list(r.reasons),
                "competitor": r.competitor,
                "needs_review": r.needs_review,
            }
            for key in ("all", f"set={path.stem}", f"lang={case['lang']}", f"kind={case['kind']}"):
                groups[key].add(gold, got)
            wrong = [k for k in ("outcome", "reasons", "competitor", "needs_review") if gold[k] != got[k]]
            if wrong:
                misses.append(
                    f"--- {case['id']} ({case['lang']}, {case['kind']}) wrong: {', '.join(wrong)}\n"
                    f"    text: {case['reply_text'].replace(chr(10), ' / ')[:300]}\n"
                    f"    gold: {gold['outcome']} {gold['reasons']} {gold['competitor']}"
                    f"{' review' if gold['needs_review'] else ''}\n"
                    f"    got:  {r.outcome} {list(r.reasons)} {r.competitor}"
                    f"{' review' if r.needs_review else ''}\n"
                    f"    why:  {'; '.join(r.explanation)}"
                )

    if not args.quiet:
        print("\n".join(misses))
        print()
    print(f"held-out classify accuracy ({', '.join(p.name for p in sets)}), classifier only")
    cols = ["n", "outcome%", "primary%", "reasonF1", "comp%", "comp_named%", "review_P%", "review_R%"]
    print(f"{'group':<18}" + "".join(f"{c:>12}" for c in cols))
    for key in sorted(groups, key=lambda k: (k != "all", k)):
        row = groups[key].row()
        print(f"{key:<18}" + "".join(f"{'-' if row[c] is None else row[c]!s:>12}" for c in cols))
    print(f"replies with any field wrong: {len(misses)}")


def _before(ref: str, argv: list[str]) -> None:
    """Run this script on commit ``ref``'s package (figures only) and print its table first."""
    rest = [a for i, a in enumerate(argv) if a != "--before" and (i == 0 or argv[i - 1] != "--before")]
    with tempfile.TemporaryDirectory() as tree:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", tree], input=archive.stdout, check=True)
        out = subprocess.run(
            [sys.executable, __file__, *rest, "--quiet"],
            env={**os.environ, "BENCH_CODE_ROOT": tree},
            check=True,
            capture_output=True,
            text=True,
        )
    print(f"=== classifier of {ref}\n{out.stdout}\n=== classifier of this tree")


if __name__ == "__main__":
    main()
