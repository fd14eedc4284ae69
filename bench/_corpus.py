"""Build the labelled reply corpus into .eml files (shared by the parser and classifier benches).

The corpus ships as ``cases.jsonl`` + ``build_eml.py`` (tests/corpus by default, or e.g.
/work/shared/corpus). The builder is run as a script in a child process so the benches use exactly
the bytes the tests use, without importing a standard-library-only script into the package.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

DEFAULT_CORPUS_DIR = Path(__file__).resolve().parent.parent / "tests" / "corpus"


def build_corpus(out_dir: str | Path, corpus_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """Write ``out_dir/*.eml`` and ``labels.jsonl`` from ``corpus_dir``; return the label rows.

    Each row has id, file (relative to out_dir), kind, token, gold, expected_reply, client, lang,
    layout, request_message_id and request_subject (see the corpus README).
    """
    src = Path(corpus_dir) if corpus_dir is not None else DEFAULT_CORPUS_DIR
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, str(src / "build_eml.py"), str(out), "--cases", str(src / "cases.jsonl")],
        check=True,
        capture_output=True,
    )
    with open(out / "labels.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
