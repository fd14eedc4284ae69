"""Bad input never raises and costs bounded time: junk, truncation, huge and deep messages."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedback.mail import ParsedMessage, parse_message

CORPUS = Path(__file__).resolve().parent / "corpus"
# CPU seconds of this thread: generous; the design says a pathological message must end. CPU time,
# not wall time, so other processes on a loaded machine cannot make the test fail
BOUND = 5.0
HEAD = b"From: Dana <d@b.example>\r\nTo: f@x.example\r\nSubject: Re: x\r\nMIME-Version: 1.0\r\n"


def timed(raw: bytes) -> tuple[ParsedMessage, float]:
    t0 = time.thread_time()
    p = parse_message(raw)
    return p, time.thread_time() - t0


@pytest.fixture(scope="module")
def corpus_raws(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    out = tmp_path_factory.mktemp("corpus")
    subprocess.run([sys.executable, str(CORPUS / "build_eml.py"), str(out)], check=True, capture_output=True)
    return [p.read_bytes() for p in sorted(out.glob("*.eml"))]


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"", "empty input"),
        (b"   \r\n\r\n", "empty input"),
        (bytes(range(256)) * 4, "binary data, not an e-mail message"),
        (bytes(range(1, 256)) * 4, "no e-mail header fields found"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data, not an e-mail message"),
        (b"just some words, no headers at all\n", "no e-mail header fields found"),
    ],
)
def test_not_a_message_is_unreadable(raw: bytes, why: str) -> None:
    p = parse_message(raw)
    assert p.classification == "unreadable" and p.error == why and p.reply_text is None


def test_empty_body_is_a_reply_with_an_error() -> None:
    p = parse_message(HEAD + b"Content-Type: text/plain\r\n\r\n")
    assert p.classification == "reply" and p.reply_text == "" and p.error


def test_truncated_mime_still_parses() -> None:
    raw = (
        HEAD
        + b'Content-Type: multipart/alternative; boundary="X"\r\n\r\n'
        + b"--X\r\nContent-Type: text/plain\r\n\r\nWon"
    )
    p = parse_message(raw)
    assert p.classification == "reply" and p.reply_text == "Won"


def test_broken_base64_and_bad_charset() -> None:
    raw = (
        HEAD
        + b'Content-Type: text/plain; charset="bogus\xff"\r\n'
        + b"Content-Transfer-Encoding: base64\r\n\r\n@@@!!\r\n"
    )
    p = parse_message(raw)
    assert p.classification == "reply"


def test_25_mb_message_is_bounded() -> None:
    attachment = b"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n" * 330_000
    raw = (
        HEAD + b'Content-Type: multipart/mixed; boundary="M"\r\n\r\n--M\r\nContent-Type: text/plain\r\n\r\n'
        b"Lost on price.\r\n--M\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + attachment
        + b"--M--\r\n"
    )
    assert len(raw) > 25_000_000
    p, dt = timed(raw)
    assert dt < BOUND and p.reply_text == "Lost on price." and p.warnings


def test_5_mb_line_without_newlines() -> None:
    p, dt = timed(HEAD + b"Content-Type: text/plain\r\n\r\n" + b"On " + b"a" * 5_000_000 + b" wrote:")
    assert dt < BOUND and p.classification == "reply"


def test_5_mb_html_line() -> None:
    p, dt = timed(HEAD + b"Content-Type: text/html\r\n\r\n<div>" + b"<b>x</b>" * 700_000)
    assert dt < BOUND and p.classification == "reply"


def test_10000_quote_lines() -> None:
    body = b"Won.\r\n\r\nOn Mon, X wrote:\r\n" + b">\r\n" * 5000 + b"> > > > " * 5000 + b"\r\n" + b">" * 10000
    p, dt = timed(HEAD + b"Content-Type: text/plain\r\n\r\n" + body)
    assert dt < BOUND and p.reply_text == "Won."


def test_many_candidate_marker_lines() -> None:
    body = b"".join(b"From: a\r\nOn Mon, wrote\r\nSent: x <\r\n" for _ in range(20_000))
    p, dt = timed(HEAD + b"Content-Type: text/plain\r\n\r\n" + body)
    assert dt < BOUND and p.classification == "reply"


def test_200_deep_nested_multipart() -> None:
    depth = 200
    raw = HEAD + b'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n'
    for i in range(1, depth):
        raw += f'--b{i - 1}\r\nContent-Type: multipart/mixed; boundary="b{i}"\r\n\r\n'.encode()
    raw += f"--b{depth - 1}\r\nContent-Type: text/plain\r\n\r\nDeep.\r\n--b{depth - 1}--\r\n".encode()
    for i in range(depth - 2, -1, -1):
        raw += f"--b{i}--\r\n".encode()
    p, dt = timed(raw)
    assert dt < BOUND and p.classification in ("reply", "unreadable")


def test_thousands_of_parts() -> None:
    parts = b"".join(b"--M\r\nContent-Type: image/png\r\n\r\nxx\r\n" for _ in range(20_000))
    raw = HEAD + b'Content-Type: multipart/mixed; boundary="M"\r\n\r\n' + parts + b"--M--\r\n"
    p, dt = timed(raw)
    assert dt < BOUND and p.classification == "reply"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    p, dt = timed(raw)
    assert isinstance(p, ParsedMessage) and dt < 1.0


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=2000))
def test_arbitrary_text_after_headers_never_raises(body: str) -> None:
    p, dt = timed(HEAD + b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body.encode("utf-8", "replace"))
    assert p.classification == "reply" and dt < 1.0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_corpus_messages_never_raise(corpus_raws: list[bytes], data: st.DataObject) -> None:
    raw = bytearray(data.draw(st.sampled_from(corpus_raws)))
    op = data.draw(st.sampled_from(["flip", "truncate", "dup_headers", "splice"]))
    rnd = random.Random(data.draw(st.integers(0, 2**32)))
    if op == "flip":
        for _ in range(rnd.randint(1, 50)):
            raw[rnd.randrange(len(raw))] = rnd.randrange(256)
    elif op == "truncate":
        raw = raw[: rnd.randrange(len(raw))]
    elif op == "dup_headers":
        end = raw.find(b"\r\n\r\n")
        raw = raw[:end] * rnd.randint(2, 20) + raw[end:]
    else:
        a, b = sorted(rnd.randrange(len(raw)) for _ in range(2))
        raw = raw[:a] + raw[b:] + raw[a:b]
    p, dt = timed(bytes(raw))
    assert isinstance(p, ParsedMessage) and dt < 1.0
