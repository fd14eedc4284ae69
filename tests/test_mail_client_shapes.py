"""Shapes of real client and house mail the generic rules met late: helpdesk threads, mutt and
Zoho attributions, company lines, joined and bilingual sign-offs, footers above the name, and
messages whose only text of the sender's is a signature (an empty reply, never a signature read
as the answer)."""

from __future__ import annotations

import pytest

from feedback.mail import parse_message
from feedback.mail.quotes import extract_reply
from feedback.mail.signature import split_signature

QUOTE = "> Hi, what happened to lead Peter Hoffmann (Globex)?\n> 1. Meeting booked\n"


def _mail(body: str, from_name: str = "Anna Berg") -> bytes:
    return (
        f"From: {from_name} <anna@brightline.example>\r\nTo: feedback+abc@feedback.example\r\n"
        "Subject: Re: What happened?\r\nMessage-ID: <r1@brightline.example>\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
        + body.replace("\n", "\r\n")
    ).encode()


def test_a_mutt_attribution_with_address_and_time_is_cut_above_its_quote() -> None:
    body = f"* Feedback <feedback+abc@feedback.example> [2026-03-02 09:14 +0100]:\n{QUOTE}\nLost, price.\n"
    assert extract_reply(body).text == "Lost, price."


def test_a_sentence_ending_in_a_colon_with_a_time_but_no_address_stays() -> None:
    body = "Call booked for Tuesday at 10:30:\nwith their CFO and the ops lead.\n"
    assert extract_reply(body).text == body.strip()


def test_a_dashed_attribution_with_the_verb_before_the_name_ends_the_reply() -> None:
    body = (
        "Verloren, zu teuer.\n\n---- Am Mo, 02 Mär 2026 09:14:07 +0100 schrieb Feedback "
        "<feedback+abc@feedback.example> ----\n\nHallo Anna, was ist mit dem Lead passiert?\n"
    )
    assert extract_reply(body).text == "Verloren, zu teuer."


def test_a_helpdesk_thread_gives_its_newest_comment_without_its_heading() -> None:
    body = (
        "##- Please type your reply above this line -##\n\nAnna Berg (Brightline)\n\n"
        "Mar 2, 2026, 09:14 CET\n\nRejected, they are a reseller.\n\n--------------------------------\n\n"
        "Feedback\n\nMar 1, 2026, 08:00 CET\n\nHi Anna, what happened to the lead?\n"
    )
    assert extract_reply(body).text == "Rejected, they are a reseller."


def test_a_reply_above_the_helpdesk_line_is_still_the_reply() -> None:
    body = "Won, integration.\n\n##- Please type your reply above this line -##\n\nFeedback\n\nHi Anna\n"
    assert extract_reply(body).text == "Won, integration."


@pytest.mark.parametrize(
    ("text", "name"),
    [
        (
            "No decision, went dark.\n\nPozdrawiam\nJan\n\nJan Nowak\nKey Account Manager\n"
            "Nowak Systemy Sp. z o.o.\nTel. +48 22 555 01 00",
            "Jan Nowak",
        ),
        ("Rechazado, datos falsos.\n\nUn saludo,\nLuis\n\nLuis Gil\nVentas\nGil Energía S.L.", "Luis Gil"),
        ("Lost, price.\n\nDanke und Gruß\nJana", "Jana Roth"),
        ("Abgelehnt, falsche Daten.\n\nMit freundlichen Grüßen / Kind regards\nJana Roth", "Jana Roth"),
        ("Lost, no budget.\n\nAbs,\nJoão", "João Carvalho"),
        ("Early research only.\n\nAtt.,\nFernanda", "Fernanda Lima"),
        ("Existing customer.\n\nMed vänlig hälsning\nEbba", "Ebba Sjöberg"),
        ("Gagnée.\n\nObtenir Outlook pour iOS<https://aka.ms/x>\n\nCamille", "Camille Roy"),
        (
            "Wrong contact.\n\nCarmen\n\nAVISO LEGAL: Este mensaje y sus archivos adjuntos van dirigidos "
            "exclusivamente a su destinatario.",
            "Carmen Ibáñez",
        ),
    ],
)
def test_house_signatures_in_many_languages_leave_only_the_answer(text: str, name: str) -> None:
    body, signature = split_signature(text, name)
    assert body == text.split("\n\n")[0] and signature


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ("-- \nKevin Brandt\nAccount Executive\nT: +1 617 555 0100\n", "Kevin Brandt"),
        ("Mit freundlichen Grüßen\nStefanie\n", "Stefanie Braun"),
        ("Priya Raman\nSenior Account Executive\nT: +1 415 555 0142\nwww.brightline.example", "Priya Raman"),
    ],
)
def test_a_message_that_is_only_a_signature_has_no_reply(body: str, name: str) -> None:
    parsed = parse_message(_mail(body + "\n" + QUOTE, name))
    assert parsed.reply_text == "" and parsed.signature
    assert any("only quote or signature" in w for w in parsed.warnings)


@pytest.mark.parametrize(
    "text", ["Thanks\nLost", "Danke\nVerloren", "Lost\nDana", "Priya Raman\nLost", "Cheers\nNo."]
)
def test_a_short_answer_below_a_closing_word_is_never_taken_for_a_signature(text: str) -> None:
    body, _ = split_signature(text, "Priya Raman")
    assert body.split("\n")[-1] in text and body.endswith(text.split("\n")[-1])
