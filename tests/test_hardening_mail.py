"""Issue 14 items 8 and 9: charset labels Python cannot decode with, and redeliveries that relays
re-encoded (the dedup key reads the decoded content, not the transfer encoding)."""

from __future__ import annotations

import base64
import quopri

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from feedback.ingress.dedup import dedup_key
from feedback.mail import parse_message
from feedback.mail.decode import decode_bytes, normalise_charset

# labels met in real mail or that Python resolves to codecs which are not text charsets
ODD_LABELS = [
    "punycode", "undefined", "unknown-8bit", "x-unknown", "unknown", "x-user-defined", "idna",
    "base64", "rot13", "hex", "zlib", "uu", "bz2", "quopri", "unicode_escape", "raw_unicode_escape",
    "charmap", "mbcs", "oem", "", " ", "\"\"", "=?", "x-mac-unknown", "binary", "8bit",
]  # fmt: skip
# any label that keeps the header a header (a CR or LF in it would end the field: another test)
LABELS = st.one_of(
    st.sampled_from(ODD_LABELS), st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=40)
)
WORDS = st.sampled_from(
    [
        "Perdu, le client a choisi Contoso: trop cher. Désolé.",
        "Verloren, zu teuer, sie haben Fabrikam genommen. Grüße",
        "No, el cliente eligió otra opción; año sin presupuesto.",
        "Accepted, meeting booked for next week.",
    ]
)


def message(label: str, body: bytes, cte: str = "8bit") -> bytes:
    label_param = label.replace("\\", "\\\\").replace('"', '\\"')
    head = (
        "From: Pat Rep <pat@example.com>\r\nTo: feedback@feedback.localhost\r\n"
        "Subject: Re: lead\r\nMessage-ID: <m1@example.com>\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: text/plain; charset="{label_param}"\r\nContent-Transfer-Encoding: {cte}\r\n\r\n'
    )
    return head.encode("utf-8", "surrogateescape") + body


@pytest.mark.parametrize("label", ODD_LABELS)
@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_odd_charset_labels_are_read_by_detection(label: str, encoding: str) -> None:
    words = "Perdu, le client a choisi Contoso: trop cher. Désolé, l'été prochain."
    parsed = parse_message(message(label, words.encode(encoding) + b"\r\n"))
    assert parsed.classification == "reply" and parsed.error is None
    assert parsed.reply_text == words


@given(
    label=LABELS,
    words=WORDS,
    encoding=st.sampled_from(["utf-8", "latin-1", "cp1252"]),
    cte=st.sampled_from(["8bit", "quoted-printable", "base64"]),
)
@example(label="punycode", words="Perdu, trop cher. Désolé.", encoding="latin-1", cte="8bit")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_charset_labels_never_raise_and_readable_bodies_are_read(
    label: str, words: str, encoding: str, cte: str
) -> None:
    data = words.encode(encoding) + b"\r\n"
    if cte == "base64":
        data = base64.encodebytes(data)
    elif cte == "quoted-printable":
        data = quopri.encodestring(data)
    parsed = parse_message(message(label, data, cte))  # never raises: the package's contract
    if normalise_charset(label.strip().strip("\"'")) is None:  # unknown or not a text charset
        assert parsed.classification == "reply" and parsed.error is None
        assert parsed.reply_text == words


@given(data=st.binary(max_size=400), label=st.one_of(st.sampled_from(ODD_LABELS), st.text(max_size=20)))
@settings(max_examples=300, deadline=None)
def test_decode_bytes_never_raises(data: bytes, label: str) -> None:
    text, _ = decode_bytes(data, label)
    assert isinstance(text, str)


def test_utf16_under_an_8bit_label_is_recognised() -> None:
    for encoding, label in (("utf-16-le", "windows-1252"), ("utf-16-be", "iso-8859-1"), ("utf-16", None)):
        text, warning = decode_bytes("Lost to Contoso, too expensive.".encode(encoding), label)
        assert text == "Lost to Contoso, too expensive."
        assert (warning is not None) == (label is not None)


# --- item 8: redeliveries changed by relays -------------------------------------------------------

ORIGINAL = (
    b"From: =?utf-8?q?Ren=C3=A9e_Rep?= <renee@example.com>\r\n"
    b"To: feedback+tok@feedback.localhost\r\n"
    b"Subject: Re: What happened to lead =?utf-8?q?M=C3=BCller?= (Acme) and its long follow-up\r\n"
    b"Message-ID: <orig-1@example.com>\r\n"
    b"In-Reply-To: <req-1@feedback.localhost>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n\r\n"
)
BODY = "Perdu: trop cher, ils ont choisi Contoso. Désolé.  \r\n\r\nRenée\r\n".encode()


def relayed(
    head: bytes, body: bytes, *, cte: str = "8bit", date: bool = False, refold: bool = False
) -> bytes:
    """What a relay hands on: the body re-encoded, a Date added, headers refolded, a trace added."""
    if cte == "base64":
        body = base64.encodebytes(body).replace(b"\n", b"\r\n")
    elif cte == "quoted-printable":
        body = quopri.encodestring(body.replace(b"\r\n", b"\n")).replace(b"\n", b"\r\n")
    head = head.replace(b"Content-Transfer-Encoding: 8bit", f"Content-Transfer-Encoding: {cte}".encode())
    if refold:
        head = head.replace(b" and its long", b"\r\n\tand  its long")
    trace = b"Received: from relay.example by mx.example; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
    if date:
        trace += b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
    return trace + head + body


def test_relay_re_encodings_keep_the_dedup_key() -> None:
    key, message_id = dedup_key(ORIGINAL + BODY)
    assert key.startswith("m2:") and len(key) <= 80 and message_id == "<orig-1@example.com>"
    for cte in ("8bit", "quoted-printable", "base64"):
        for date in (False, True):
            for refold in (False, True):
                again = relayed(ORIGINAL, BODY, cte=cte, date=date, refold=refold)
                assert dedup_key(again)[0] == key, (cte, date, refold)
    lf_only = (ORIGINAL + BODY).replace(b"\r\n", b"\n")
    assert dedup_key(lf_only)[0] == key


def test_different_content_or_identity_changes_the_key() -> None:
    key = dedup_key(ORIGINAL + BODY)[0]
    assert dedup_key(ORIGINAL + BODY.replace(b"Contoso", b"Fabrikam"))[0] != key
    assert dedup_key(ORIGINAL.replace(b"orig-1", b"orig-2") + BODY)[0] != key
    assert dedup_key(ORIGINAL.replace(b"renee@", b"eve@") + BODY)[0] != key
    assert dedup_key(ORIGINAL.replace(b"req-1", b"req-2") + BODY)[0] != key
    no_id = ORIGINAL.replace(b"Message-ID: <orig-1@example.com>\r\n", b"")
    assert dedup_key(no_id + BODY)[0].startswith("x2:")
    assert dedup_key(relayed(no_id, BODY, cte="base64", date=True))[0] == dedup_key(no_id + BODY)[0]


def test_multipart_parts_re_encoded_keep_the_key() -> None:
    def multipart(text_cte: str, html_cte: str) -> bytes:
        text = b"Accepted, meeting booked. \xc3\xa9t\xc3\xa9\r\n"
        html = b"<p>Accepted, meeting booked. \xc3\xa9t\xc3\xa9</p>\r\n"
        bodies = []
        for media, body, cte in (("plain", text, text_cte), ("html", html, html_cte)):
            if cte == "base64":
                body = base64.encodebytes(body).replace(b"\n", b"\r\n")
            elif cte == "quoted-printable":
                body = quopri.encodestring(body.replace(b"\r\n", b"\n")).replace(b"\n", b"\r\n")
            bodies.append(
                f"--b1\r\nContent-Type: text/{media}; charset=utf-8\r\n"
                f"Content-Transfer-Encoding: {cte}\r\n\r\n".encode()
                + body
            )
        head = ORIGINAL.replace(b"text/plain; charset=utf-8", b'multipart/alternative; boundary="b1"')
        return head + b"preamble\r\n" + b"\r\n".join(bodies) + b"\r\n--b1--\r\n"

    key = dedup_key(multipart("8bit", "8bit"))[0]
    assert dedup_key(multipart("quoted-printable", "base64"))[0] == key
    assert dedup_key(multipart("base64", "quoted-printable"))[0] == key
    assert dedup_key(multipart("8bit", "8bit").replace(b"booked", b"cancelled"))[0] != key


@given(raw=st.binary(max_size=2000))
@settings(max_examples=300, deadline=None)
def test_dedup_key_never_raises(raw: bytes) -> None:
    key, _ = dedup_key(raw)
    assert len(key) <= 80
