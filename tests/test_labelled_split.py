"""The labelled replies are split by writer: every writer the package ships is training data, the
TEST writers live in ``bench/labelled/`` only, and the accuracy bench reads whichever test
writers that folder holds (bench/labelled/README.md)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from feedback.classify.model.train import TRAIN_WRITERS, shipped_corpus

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from compare_model import test_writers as bench_test_writers  # noqa: E402


def test_training_writers_are_w1_to_w6_and_w10_to_w45_and_never_test_writers() -> None:
    corpus = shipped_corpus()
    expected = (*("W1", "W2", "W3", "W4", "W5", "W6"), *(f"W{n}" for n in range(10, 46)))
    assert expected == TRAIN_WRITERS
    assert {e.writer for e in corpus} == set(TRAIN_WRITERS)
    assert len(corpus) == 18200 + 8 * 400
    shipped_files = {p.stem for p in (ROOT / "feedback" / "data" / "labelled").glob("W*.jsonl")}
    test_files = {p.stem for p in (ROOT / "bench" / "labelled").glob("W*.jsonl")}
    assert shipped_files == set(TRAIN_WRITERS)
    assert not shipped_files & test_files  # a writer is on one side only


def test_accuracy_bench_reads_whichever_test_writers_the_folder_holds(tmp_path: Path) -> None:
    def reply(writer: str, n: int) -> str:
        gold = {"classification": "reply", "outcome": "lost", "reasons": ["price"], "needs_review": False}
        return json.dumps({"id": f"{writer}-{n}", "writer": writer, "kind": "winloss", "gold": gold})

    for writer, n in (("W10", 1), ("W7", 2), ("W8", 3)):
        (tmp_path / f"{writer}.jsonl").write_text("\n".join(reply(writer, i) for i in range(n)) + "\n")
    (tmp_path / "README.md").write_text("not a writer")
    writers, rows = bench_test_writers(tmp_path)
    assert writers == ["W7", "W8", "W10"]  # in number order, the README left alone
    assert [r["writer"] for r in rows] == ["W7", "W7", "W8", "W8", "W8", "W10"]
    assert bench_test_writers(tmp_path / "missing") == ([], [])


def test_the_shipped_model_was_fitted_on_every_shipped_writer() -> None:
    """Adding a writer's file (or dropping one) without refitting would ship weights that never
    saw it while the docs and ``feedback model train`` say otherwise."""
    from feedback.classify.model.scorer import shipped_model

    model = shipped_model()
    assert model is not None
    assert model.meta["counts"]["train"] == len(shipped_corpus())
    named = set(re.findall(r"\bW\d+\b", model.meta["selection"]))
    assert set(TRAIN_WRITERS) <= named and not named & {"W7", "W8", "W9", "W46", "W47", "W48", "W49"}


def test_the_bench_scores_combined_as_the_worker_does() -> None:
    """``bench/classify_accuracy.py``'s "combined" is ``classify_with_model`` (review stack
    included): a bench that combined otherwise would print figures of a product nobody runs."""
    from compare_model import CORPUS_COMPETITORS, three_ways

    from feedback.classify.model import classify_with_model, shipped_model
    from feedback.core.taxonomy import default_taxonomy

    model, taxonomy = shipped_model(), default_taxonomy()
    assert model is not None
    for e in shipped_corpus(("W1",))[:40]:
        bench = three_ways(e.text, e.kind, taxonomy, model, CORPUS_COMPETITORS)["combined"]
        worker = classify_with_model(
            e.text, kind=e.kind, taxonomy=taxonomy, model=model, competitors=CORPUS_COMPETITORS
        )
        assert bench == worker
