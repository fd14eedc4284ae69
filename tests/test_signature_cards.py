"""Signature shapes beyond the sender's own name: contact cards, lists that look like "-Sam",
tracking marks, a closing formula that is the whole text (issue 16, item 4)."""

from __future__ import annotations

import pytest

from feedback.mail.parse import parse_message
from feedback.mail.signature import split_signature

CARD = (
    "Jane Q Public\nHead of Sales | Acme GmbH\nTel: +49 30 1234567\njane@acme.example\n"
    "www.acme.example\n\nThe content of this e-mail is intended for the addressee only. If you are "
    "not the addressee, please delete it and tell the sender."
)


@pytest.mark.parametrize(
    ("text", "body"),
    [
        # a card ends the text, whoever's name it carries (a shared mailbox, a pasted card); the
        # paragraphs below it are its footer
        (f"Lost to Contoso on price.\n\n{CARD}", "Lost to Contoso on price."),
        (f":+1:\n\n{CARD}", ":+1:"),  # an emoji code above is not "introducing" the card
        (
            "Gewonnen!\n\n*Max Muster* | *Vertrieb*\n*Ruf mich an +49 30 1234567*\n\n[image: logo]\n\n"
            "Musterstraße 2, 10115 Berlin\n\n*USt-ID DE123456789*",
            "Gewonnen!",
        ),
    ],
)
def test_a_contact_card_ends_the_text(text: str, body: str) -> None:
    assert split_signature(text, "Dana Whitfield")[0] == body


def test_a_card_the_reply_introduces_is_the_answer() -> None:
    text = "Wrong contact, the buyer is:\n\nJane Q Public\nCFO\nTel: +49 30 1234567\njane@acme.example"
    assert split_signature(text, "Dana Whitfield")[0] == text


def test_a_dashed_list_is_not_a_sign_off() -> None:
    text = "Reasons:\n\n- A\n- B\n- C\n\nshould all stay"
    assert split_signature(text, "Dana Whitfield")[0] == text
    assert split_signature("Lost on price.\n\n-Sam", "Sam Park")[0] == "Lost on price."


@pytest.mark.parametrize(
    ("text", "body"),
    [
        ("Booked a demo for Tuesday.\n\n\u1427", "Booked a demo for Tuesday."),  # Streak's mark
        ("Gruß Anna", ""),  # a closing formula with a name, nothing else: no answer
        ("Cheers, Tom", ""),
        ("Thank you Rebecca", "Thank you Rebecca"),  # thanking someone is the message
        ("Thanks!", "Thanks!"),  # a bare formula may be the answer
        ("No.", "No."),
        ("Ja", "Ja"),
        (
            "Won it, budget came through.\n\nGrüßle - Thomas\n____\nDr. Thomas F\nGermany",
            "Won it, budget came through.",
        ),
        ("Verloren, zu teuer.\n\nMit besten Grüßen\nThomas", "Verloren, zu teuer."),
    ],
)
def test_sign_offs_and_marks(text: str, body: str) -> None:
    assert split_signature(text, "Dana Whitfield")[0] == body


def test_a_sign_off_alone_gives_an_empty_reply_with_a_reason() -> None:
    raw = (
        b"From: Anna Berg <anna@x.example>\r\nTo: feedback@y.example\r\nSubject: Re: lead\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nGru\xc3\x9f Anna\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.reply_text == ""
    assert any("only quote or signature" in w for w in parsed.warnings)


@pytest.mark.parametrize(
    ("text", "body"),
    [
        # a formula alone, then a name: what follows is not the answer
        (
            "Lost it to Fabrikam.\n\nAll the best,\n\nPhil\n\nJoin us at the Expo in May, booth 12!",
            "Lost it to Fabrikam.",
        ),
        # ... unless a P.S. carries on
        (
            "Lost it to Fabrikam.\n\nThanks,\nPhil\n\nPS: they also looked at Contoso.",
            "Lost it to Fabrikam.\n\nThanks,\nPhil\n\nPS: they also looked at Contoso.",
        ),
        # a device footer of any make ends the text: below it is history the quote step missed
        (
            "Booked for Tuesday.\n\nSent from my Wiko RIDGE FAB 4G\n\nHi Dana, what happened?",
            "Booked for Tuesday.",
        ),
        ("Perdido, muy caro.\n\nSalud\nEl", "Perdido, muy caro."),
    ],
)
def test_what_follows_a_sign_off_or_a_device_footer(text: str, body: str) -> None:
    assert split_signature(text, "Dana Whitfield")[0] == body
