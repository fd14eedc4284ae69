"""Large messages: parsed from a slimmed copy (``mail/large.py``) exactly as from the whole, in
bounded memory, and read by the worker only as far as the parser reads."""

from __future__ import annotations

import base64
import json
import quopri
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import feedback.mail.parse as parse_module
from feedback.mail import ParsedMessage, parse_message
from feedback.mail.decode import MAX_TEXT_BYTES
from feedback.mail.large import slim

MiB = 1024 * 1024
CORPUS = Path(__file__).resolve().parent / "corpus"
HEAD = (
    b"From: Dana <dana@brightline.example>\r\nTo: feedback+tok@feedback.localhost\r\n"
    b"Subject: Re: lead\r\nMessage-ID: <big@x>\r\nMIME-Version: 1.0\r\n"
)
ANSWER = b"Lost on price, they went with Initech.\r\n\r\nOn Mon, Feedback wrote:\r\n> 1. Meeting booked\r\n"


def _both(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[ParsedMessage, ParsedMessage]:
    """(parsed whole, parsed slimmed), whatever the message's size."""
    with monkeypatch.context() as m:
        m.setattr(parse_module, "SLIM_FROM", 1 << 40)
        whole = parse_message(raw)
    with monkeypatch.context() as m:
        m.setattr(parse_module, "SLIM_FROM", 0)
        slimmed = parse_message(raw)
    return whole, slimmed


def _lines(n: int, line: bytes = b"x" * 76) -> bytes:
    return (line + b"\r\n") * (n // (len(line) + 2))


def _b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def _part(ctype: bytes, body: bytes, extra: bytes = b"") -> bytes:
    return b"Content-Type: " + ctype + b"\r\n" + extra + b"\r\n" + body


def _multipart(subtype: bytes, boundary: bytes, parts: list[bytes], *, preamble: bytes = b"") -> bytes:
    body = preamble + b"".join(b"--" + boundary + b"\r\n" + p + b"\r\n" for p in parts)
    head = b"Content-Type: multipart/" + subtype + b'; boundary="' + boundary + b'"\r\n\r\n'
    return head + body + b"--" + boundary + b"--\r\n" + _lines(200_000)  # and an epilogue


SHAPES = {
    "plain body": HEAD + b"\r\n" + ANSWER + _lines(3 * MiB),
    "base64 attachment": HEAD
    + _multipart(
        b"mixed",
        b"B",
        [
            _part(b"text/plain", ANSWER),
            _part(b"application/pdf", _b64(b"%PDF" * (MiB // 2)), b"Content-Transfer-Encoding: base64\r\n"),
        ],
        preamble=b"This is a multi-part message.\r\n" + _lines(300_000),
    ),
    "quoted-printable text": HEAD
    + b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    + quopri.encodestring(ANSWER + "Grüße, é à ü\r\n".encode() * 200_000),
    "base64 text": HEAD
    + b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    + _b64(ANSWER + "Grüße aus Köln\r\n".encode() * 120_000),
    "html in alternative, in mixed": HEAD
    + _multipart(
        b"mixed",
        b"outer",
        [
            _multipart(
                b"alternative",
                b"inner",
                [
                    _part(
                        b'text/html; charset="us-ascii"',
                        b"<p>Won, signed today.</p>" + _lines(MiB, b"<br>" * 19),
                    ),
                ],
            ),
            _part(
                b"image/png",
                _b64(b"\x89PNG" * MiB),
                b"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=a.png\r\n",
            ),
            _part(b"text/plain", _lines(MiB), b"Content-Disposition: attachment; filename=log.txt\r\n"),
        ],
    ),
    "bounce returning a large message": b"From: MAILER-DAEMON@mx.example\r\n"
    b"To: feedback@feedback.localhost\r\n"
    b"Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
    + _multipart(
        b"report; report-type=delivery-status",
        b"R",
        [
            _part(b"text/plain", b"Your message could not be delivered.\r\n"),
            _part(
                b"message/delivery-status",
                b"Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; gone@globex.example\r\n"
                b"Action: failed\r\nStatus: 5.1.1\r\n",
            ),
            _part(
                b"message/rfc822",
                b"From: feedback@feedback.localhost\r\nTo: gone@globex.example\r\nMessage-ID: <req-1@fb>\r\n"
                b"Content-Type: text/plain\r\n\r\n" + _lines(2 * MiB),
            ),
        ],
    ),
    "boundary lines inside a kept text": HEAD
    + _multipart(
        b"mixed",
        b"B",
        [_part(b"text/plain", ANSWER + b"--B-not-a-boundary\r\n-- \r\n" + _lines(MiB))],
    ),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_large_message_parses_as_it_did_whole(shape: str, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = SHAPES[shape]
    assert len(raw) > MiB
    whole, slimmed = _both(raw, monkeypatch)
    assert slimmed == whole
    assert parse_message(bytearray(raw)) == whole  # the worker's buffer on PostgreSQL
    assert len(slim(raw)) < len(raw) // 3  # and it was slimmed: what is tested is the cut copy


def test_every_corpus_message_parses_the_same_slimmed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subprocess.run(
        [sys.executable, str(CORPUS / "build_eml.py"), str(tmp_path)], check=True, capture_output=True
    )
    rows = [json.loads(line) for line in (tmp_path / "labels.jsonl").read_text("utf-8").splitlines() if line]
    cut = 0
    for row in rows:
        raw = (tmp_path / row["file"]).read_bytes()
        whole, slimmed = _both(raw, monkeypatch)
        assert slimmed == whole, row["id"]
        assert parse_message(bytearray(raw)) == whole, row["id"]
        cut += slim(raw) != raw
    assert cut  # some corpus messages have bodies the parser never reads (attachments)


def test_what_is_not_plain_structure_is_kept_whole() -> None:
    for raw in (
        HEAD + b"\r\nbody\rwith a lone CR\r\n" + _lines(MiB),  # the stdlib reads a line break there
        HEAD + b"\r\nform\x0cfeed\r\n" + _lines(MiB),
        b"From nobody Mon Jan  1 00:00:00 2024\r\n"
        + HEAD
        + _multipart(b"mixed", b"B", [_part(b"x/y", b"z")]),
        HEAD + b"Content-Type: multipart/mixed\r\n\r\n" + _lines(MiB),  # no boundary parameter
    ):
        assert slim(raw) == raw
    digest = HEAD + _multipart(b"digest", b"D", [b"\r\n" + _lines(MiB)])  # parts default to messages
    assert b"\r\n" + _lines(MiB) in slim(digest)


_TEXTS = st.sampled_from(
    ["Lost on price.\n", "Gewonnen – Vertrag unterschrieben.\n", "<p>Won</p>\n", "-- \nDana\n"]
)


@st.composite
def _large_messages(draw: st.DrawFn) -> bytes:
    """Multipart messages of text and attachment parts around the sizes where bodies are cut."""
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["plain", "html", "attachment", "attached text"]))
        cte = draw(st.sampled_from(["7bit", "quoted-printable", "base64"]))
        size = draw(st.sampled_from([100, MAX_TEXT_BYTES - 10, MAX_TEXT_BYTES + 70_000, 4 * MAX_TEXT_BYTES]))
        text = draw(_TEXTS).encode()
        data = (text * (size // len(text) + 1))[:size]
        body = {"7bit": data, "quoted-printable": quopri.encodestring(data), "base64": _b64(data)}[cte]
        ctype = {"plain": b"text/plain", "html": b"text/html", "attachment": b"application/octet-stream"}
        extra = b"Content-Transfer-Encoding: " + cte.encode() + b"\r\n"
        if kind == "attached text":
            extra += b"Content-Disposition: attachment; filename=a.txt\r\n"
        parts.append(
            _part(ctype.get(kind, b"text/plain") + b"; charset=utf-8", body.replace(b"\n", b"\r\n"), extra)
        )
    subtype = draw(st.sampled_from([b"mixed", b"alternative", b"related"]))
    return HEAD + _multipart(subtype, b"=_b" + str(draw(st.integers(0, 99))).encode(), parts)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(raw=_large_messages())
def test_slimming_never_changes_a_parse(raw: bytes) -> None:
    with pytest.MonkeyPatch.context() as m:
        whole, slimmed = _both(raw, m)
    assert slimmed == whole


def _parse_peak(raw: bytes) -> int:
    tracemalloc.start()
    try:
        parse_message(raw)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("attachment", [False, True])
def test_a_24_mib_message_parses_in_a_tenth_of_its_size(attachment: bool) -> None:
    """Python-level peak of the real parse path (measured 0.09x plain, ~0 attachment; the stdlib
    parse of the whole was 1.46x). tracemalloc counts allocations, not time: stable under load."""
    if attachment:
        raw = HEAD + _multipart(
            b"mixed",
            b"B",
            [
                _part(b"text/plain", ANSWER),
                _part(
                    b"application/pdf",
                    _b64(b"%PDF" * (18 * MiB // 4)),
                    b"Content-Transfer-Encoding: base64\r\n",
                ),
            ],
        )
    else:
        raw = HEAD + b"\r\n" + ANSWER + _lines(24 * MiB)
    assert len(raw) > 23 * MiB
    peak = _parse_peak(raw)
    assert peak < len(raw) // 10, f"parse peak {peak / MiB:.1f} MiB for {len(raw) / MiB:.1f} MiB"
