"""Copy the independent writers' labelled replies into the repository, validated.

    python bench/collect_labelled.py SRC_DIR [--writers W1 W2 ...]

SRC_DIR holds one folder per writer with its replies, either as ``batch_*.jsonl`` files or as one
``WRITER.jsonl`` (``W10/W10.jsonl``); the writers' brief and its validator, ``validate.py``, sit
beside the folders. Every line is checked by the validator; lines it
reports are left out and counted. TRAIN writers (W1-W6, W10-W13) go to ``feedback/data/labelled/``
(package data: ``feedback model train`` refits from them), TEST writers (``--test-writers``, e.g.
W7 W8 W9) to ``bench/labelled/`` (scored by bench/classify_accuracy.py only).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "feedback" / "data" / "labelled"
TEST_DIR = ROOT / "bench" / "labelled"


def valid_lines(validator: Path, lines: list[str]) -> list[str]:
    """The lines the validator has nothing to say about (it prints ``FILE:LINE problem``)."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
        path = f.name
    out = subprocess.run([sys.executable, str(validator), path], capture_output=True, text=True).stdout
    bad = set()
    for line in out.splitlines():
        if line.startswith(path + ":"):
            bad.add(int(line[len(path) + 1 :].split()[0]))
    Path(path).unlink()
    return [line for n, line in enumerate(lines, 1) if n not in bad]


def writer_files(folder: Path, writer: str) -> list[Path]:
    """A writer's reply files: its batches, or else its one ``WRITER.jsonl``."""
    batches = sorted(folder.glob("batch_*.jsonl"))
    return batches or [p for p in (folder / f"{writer}.jsonl",) if p.is_file()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path)
    ap.add_argument("--writers", nargs="+", default=["W1", "W2", "W3", "W4", "W5", "W6"])
    ap.add_argument("--test-writers", nargs="*", default=[], help="TEST writers (to bench/labelled)")
    args = ap.parse_args()
    validator = args.src / "validate.py"
    for w in args.writers:
        lines = []
        for batch in writer_files(args.src / w, w):
            lines.extend(x for x in batch.read_text(encoding="utf-8").splitlines() if x.strip())
        ok = valid_lines(validator, lines)
        seen, kept = set(), []
        for line in ok:
            c = json.loads(line)
            if c["id"] in seen:
                continue
            seen.add(c["id"])
            kept.append(json.dumps(c, ensure_ascii=False))
        dest = (TEST_DIR if w in args.test_writers else PACKAGE_DIR) / f"{w}.jsonl"
        dest.write_text("\n".join(kept) + "\n", encoding="utf-8")
        golds = [json.loads(line)["gold"] for line in kept]
        review = sum(bool(g["needs_review"]) for g in golds)
        null = sum(g["outcome"] is None for g in golds)
        print(
            f"{w}: {len(lines)} lines, {len(kept)} valid and kept -> {dest.relative_to(ROOT)} "
            f"(needs_review {review}, null outcome {null})"
        )


if __name__ == "__main__":
    main()
