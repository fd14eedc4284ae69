"""Parse + classify throughput on one core, beside stdlib + talon / email_reply_parser baselines.

    python bench/parse_speed.py [--corpus-dir DIR] [--rounds N]

All measurements run in this process on the same corpus messages (raw bytes in):

* product: ``feedback.core.analysis.analyse(raw, kind=...)`` -- MIME decoding, auto/bounce detection,
  quote and signature removal, token extraction and classification together;
* baseline A: ``email.message_from_bytes(raw, policy=policy.default)`` + ``get_body`` +
  ``get_content``, then ``talon.quotations.extract_from_plain`` (if talon imports);
* baseline B: the same stdlib decoding, then ``EmailReplyParser.parse_reply``.

Baselines only strip quotes; they do no classification, so the ratio favours them.
"""

from __future__ import annotations

import argparse
import email
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _corpus import build_corpus

from feedback.core.analysis import analyse
from feedback.mail import parse_message


def _pin_one_core() -> str:
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        return "pinned to one core"
    except (AttributeError, OSError):
        return "not pinned (no sched_setaffinity)"


def stdlib_body(raw: bytes) -> str:
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    body = msg.get_body(preferencelist=("plain", "html"))
    return str(body.get_content()) if body is not None else ""


def rate(fn: Callable[[bytes], object], raws: list[bytes], rounds: int) -> float:
    """Messages per second: best of ``rounds`` passes over all messages."""
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for raw in raws:
            fn(raw)
        best = min(best, time.perf_counter() - t0)
    return len(raws) / best


def html_bench(raws: list[bytes], rounds: int) -> None:
    """HTML-to-text converters on every text/html part of the corpus (ours cuts quotes too)."""
    from feedback.mail.html import html_to_text

    docs = []
    for raw in raws:
        for part in email.message_from_bytes(raw).walk():
            if part.get_content_type() == "text/html":
                data = part.get_payload(decode=True)
                if isinstance(data, bytes):
                    docs.append(data.decode(part.get_content_charset() or "utf-8", "replace"))
    converters: dict[str, Callable[[str], object]] = {"selectolax (feedback.mail.html)": html_to_text}
    try:
        from inscriptis import get_text

        converters["inscriptis"] = get_text
    except ImportError:
        print("inscriptis not installed")
    try:
        import html2text

        converters["html2text"] = html2text.html2text
    except ImportError:
        print("html2text not installed")
    print(f"\nHTML to text, {len(docs)} corpus HTML parts:")
    for name, fn in converters.items():
        best = float("inf")
        for _ in range(rounds):
            t0 = time.perf_counter()
            for doc in docs:
                fn(doc)
            best = min(best, time.perf_counter() - t0)
        print(f"  {name:<32}: {len(docs) / best:9.0f} docs/s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus-dir", default=None)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    print(_pin_one_core())
    with tempfile.TemporaryDirectory() as tmp:
        labels = build_corpus(tmp, args.corpus_dir)
        items = [((Path(tmp) / r["file"]).read_bytes(), r["kind"]) for r in labels]
    raws = [raw for raw, _ in items]
    kinds = {raw: kind for raw, kind in items}
    print(f"{len(raws)} corpus messages, best of {args.rounds} rounds\n")

    product = rate(lambda raw: analyse(raw, kind=kinds[raw]), raws, args.rounds)
    parse_only = rate(parse_message, raws, args.rounds)
    stdlib_only = rate(stdlib_body, raws, args.rounds)
    print(f"product  analyse() parse+classify        : {product:9.0f} msg/s")
    print(f"product  parse_message() alone           : {parse_only:9.0f} msg/s")
    print(f"stdlib   policy.default decode only      : {stdlib_only:9.0f} msg/s")

    results: dict[str, float] = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from talon import quotations

        results["talon"] = rate(
            lambda raw: quotations.extract_from_plain(stdlib_body(raw)), raws, args.rounds
        )
    except Exception as exc:
        print(f"talon    NOT RUN: cannot import/run talon ({type(exc).__name__}: {exc})")
    try:
        from email_reply_parser import EmailReplyParser

        results["email_reply_parser"] = rate(
            lambda raw: EmailReplyParser.parse_reply(stdlib_body(raw)), raws, args.rounds
        )
    except Exception as exc:
        print(f"email_reply_parser NOT RUN ({type(exc).__name__}: {exc})")
    for name, value in results.items():
        print(f"baseline stdlib decode + {name:<18}: {value:9.0f} msg/s   product is {product / value:.2f}x")
    html_bench(raws, args.rounds)
    target = "met" if product >= 1000 and all(product > v for v in results.values()) else "NOT met"
    print(f"\ntarget (>= 1000 msg/s and faster than every baseline that ran): {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
