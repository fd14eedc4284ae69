"""The ingest's fast reading of MAIL FROM / RCPT TO paths gives what aiosmtpd's parser gives."""

from __future__ import annotations

from aiosmtpd.smtp import SMTP
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.ingress.smtp import _PLAIN_PATH, IngestSMTP


def _read(session: SMTP, arg: str) -> object:
    try:
        return session._getaddr(arg)
    except Exception as exc:  # aiosmtpd's parser raises on some inputs ("<"): ours must too
        return type(exc)


def _sessions(limit: int) -> tuple[IngestSMTP, SMTP]:
    ours = object.__new__(IngestSMTP)
    theirs = object.__new__(SMTP)
    ours.local_part_limit = theirs.local_part_limit = limit
    return ours, theirs


_PIECES = st.sampled_from(
    [
        "<", ">", "@", ".", "..", "rep", "Rep.Name", "feedback+AbC123", "example.com", "ex-ample",
        " ", "\t", "  ", "(comment)", "SIZE=3812", "BODY=8BITMIME", '"quoted"', "\\", "é", ",", ":",
        "[127.0.0.1]", "x", "", "a_b", "{", "~", "=",
    ]
)  # fmt: skip


@given(st.lists(_PIECES, max_size=12).map("".join), st.sampled_from([0, 8, 64]))
@settings(max_examples=1500, deadline=None)
def test_a_path_reads_as_aiosmtpd_reads_it(arg: str, limit: int) -> None:
    ours, theirs = _sessions(limit)
    assert _read(ours, arg) == _read(theirs, arg)


def test_the_common_forms_take_the_fast_path_and_agree() -> None:
    ours, theirs = _sessions(64)
    for arg in (
        "<rep@example.com>",
        "<rep@example.com> SIZE=3812",
        "<feedback+AbCdEf0123@feedback.localhost>",
        "<a.b-c@d.e>\tBODY=8BITMIME",
        "<rep@example.com> (a comment)",  # the parser's: a comment after the path
        "<>",
        " <rep@example.com>",
        "<Rep Name@example.com>",
    ):
        assert ours._getaddr(arg) == theirs._getaddr(arg), arg
    assert _sessions(3)[0]._getaddr("<toolong@example.com>") == (None, None)
    for fast in ("<rep@example.com> SIZE=3812", "<feedback+AbCdEf0123@feedback.localhost>"):
        assert _PLAIN_PATH.match(fast), fast
