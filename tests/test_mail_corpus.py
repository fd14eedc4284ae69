"""The parser against the labelled corpus: exactness, classification, no quote leaks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from feedback.mail import ParsedMessage, parse_message

CORPUS = Path(__file__).resolve().parent / "corpus"
_WS = re.compile(r"\s+")
# what only the quoted request contains: option lists, the closing line and the sender's team
_OPTION_LINE = re.compile(r"^- [^:\n]{2,30} ?: [^,\n]+, [^,\n]+", re.MULTILINE)
_REQUEST_ONLY = (
    "Revenue Operations",
    "Just reply to this email",
    "Antworte einfach",
    "Répondez simplement",
    "Responde a este correo",
    "Competitors we track",
    "feedback.example.test",
)


def norm(text: str | None) -> str:
    return _WS.sub(" ", (text or "").replace("\r\n", "\n")).strip()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[dict[str, Any], ParsedMessage]]:
    out = tmp_path_factory.mktemp("corpus")
    subprocess.run([sys.executable, str(CORPUS / "build_eml.py"), str(out)], check=True, capture_output=True)
    rows = [json.loads(line) for line in (out / "labels.jsonl").read_text("utf-8").splitlines() if line]
    return [(row, parse_message((out / row["file"]).read_bytes())) for row in rows]


def test_classification_is_exact(corpus: list[tuple[dict[str, Any], ParsedMessage]]) -> None:
    wrong = [
        (r["id"], r["gold"]["classification"], p.classification)
        for r, p in corpus
        if p.classification != r["gold"]["classification"]
    ]
    assert wrong == []


def test_reply_text_exact_at_least_90_percent(corpus: list[tuple[dict[str, Any], ParsedMessage]]) -> None:
    replies = [(r, p) for r, p in corpus if r["gold"]["classification"] == "reply"]
    exact = sum(norm(r["expected_reply"]) == norm(p.reply_text) for r, p in replies)
    assert exact / len(replies) >= 0.90, f"{exact}/{len(replies)}"


def test_no_quoted_request_leaks_into_reply_text(corpus: list[tuple[dict[str, Any], ParsedMessage]]) -> None:
    for row, p in corpus:
        if row["gold"]["classification"] != "reply":
            continue
        text = p.reply_text or ""
        assert not _OPTION_LINE.search(text), row["id"]
        for marker in _REQUEST_ONLY:
            if marker not in row["expected_reply"]:  # a rep may say "Head of Revenue Operations"
                assert marker not in text, (row["id"], marker)
        assert not re.search(r"^\s*>", text, re.MULTILINE), row["id"]


def test_signature_is_split_off(corpus: list[tuple[dict[str, Any], ParsedMessage]]) -> None:
    for row, p in corpus:
        if row["gold"]["classification"] == "reply" and row["layout"] != "inline":
            assert "Sent from my iPhone" not in (p.reply_text or "")
            assert "Outlook for iOS" not in (p.reply_text or "")


def test_auto_replies_and_bounces_carry_no_reply_text(
    corpus: list[tuple[dict[str, Any], ParsedMessage]],
) -> None:
    for row, p in corpus:
        if row["gold"]["classification"] == "reply":
            continue
        assert p.reply_text is None and p.signature is None, row["id"]
        if p.classification == "auto_reply":
            assert p.auto_reason
        if p.classification == "bounce":
            assert p.bounce is not None
            assert p.bounce.original_message_id == row["request_message_id"]
            assert p.bounce.recipient and "@" in p.bounce.recipient
            assert p.bounce.original_recipients


def test_headers_are_decoded(corpus: list[tuple[dict[str, Any], ParsedMessage]]) -> None:
    for row, p in corpus:
        assert p.message_id and p.message_id.startswith("<"), row["id"]
        assert p.subject and "=?" not in p.subject, row["id"]
        assert p.date is not None, row["id"]
        assert any(row["token"] in a for a in p.recipients) or p.classification == "bounce", row["id"]
        if row["gold"]["classification"] == "reply":
            assert row["request_message_id"] in p.in_reply_to + p.references, row["id"]
