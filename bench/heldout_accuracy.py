"""Classifier accuracy on held-out replies (a measurement script, not a test).

    python bench/heldout_accuracy.py [--set FILE ...] [--config FILE] [--quiet]

The held-out sets in ``bench/heldout/`` are rep replies written apart from the corpus (and, for
``set_b``, after the lexicon was last tuned), labelled like the corpus ``gold`` field. Each reply
is classified from its text through the public ``feedback.classify.classify`` with the default
taxonomy and the competitors of ``bench/heldout/feedback.toml``. Prints, overall and per set,
language and kind: outcome accuracy, primary-reason accuracy, reason-set micro F1, competitor
accuracy (all replies, and those naming one), needs_review precision/recall; then every miss.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from classify_accuracy import Tally

from feedback.classify import classify
from feedback.competitors import Competitor
from feedback.taxonomy import default_taxonomy

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
    args = ap.parse_args()

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


if __name__ == "__main__":
    main()
