"""Known traps of reply parsers, each with a synthetic message (several languages)."""

from __future__ import annotations

import base64
import quopri

import pytest

from feedback.mail import ParsedMessage, parse_message

REQUEST = """Hi Dana,

1. What happened to this lead: accepted, rejected or recycled?
2. Why?

Options:
- Accepted: meeting booked, opportunity created, in progress
- Rejected: not a fit, no budget, no need, bad data, wrong contact

Thanks,
Revenue Operations"""
QUOTED = "\n".join("> " + line if line else ">" for line in REQUEST.split("\n"))


def mk(
    body: str | bytes,
    *,
    ctype: str = "text/plain",
    charset: str | None = "utf-8",
    cte: str = "8bit",
    subject: str = "Re: What happened to lead Peter?",
    from_: str = "Dana Whitfield <dana@brightline.example>",
    extra: str = "",
    params: str = "",
) -> bytes:
    data = body.encode(charset or "utf-8") if isinstance(body, str) else body
    if cte == "base64":
        payload = base64.encodebytes(data)
    elif cte == "quoted-printable":
        payload = quopri.encodestring(data)
    else:
        payload = data
    cs = f"; charset={charset}" if charset else ""
    head = (
        f"From: {from_}\r\nTo: Feedback <feedback+tok123@feedback.example.test>\r\n"
        f"Subject: {subject}\r\nDate: Mon, 4 Mar 2024 10:00:00 +0000\r\n"
        f"Message-ID: <abc@brightline.example>\r\nIn-Reply-To: <req1@feedback.example.test>\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: {ctype}{cs}{params}\r\n"
        f"Content-Transfer-Encoding: {cte}\r\n{extra}"
    )
    return head.encode("utf-8") + b"\r\n" + payload.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def reply(body: str, **kw: str) -> ParsedMessage:
    p = parse_message(mk(body, **kw))  # type: ignore[arg-type]
    assert p.classification == "reply", p
    return p


def assert_clean(p: ParsedMessage, expected: str) -> None:
    assert p.reply_text == expected
    assert "Options" not in (p.reply_text or "") and "no budget, no need" not in (p.reply_text or "")


# --- Gmail ------------------------------------------------------------------------------------------
def test_gmail_attribution_wrapped_over_two_lines_with_narrow_nbsp() -> None:
    body = (
        "Accepted, demo booked.\n\nOn Mon, Mar 4, 2024 at 10:05\u202fAM Feedback <\n"
        f"feedback+tok123@feedback.example.test> wrote:\n{QUOTED}\n"
    )
    assert_clean(reply(body), "Accepted, demo booked.")


def test_gmail_attribution_wrapped_between_words() -> None:
    body = (
        "Rejected - no budget.\n\nOn Monday, March 4, 2024 at 10:05 AM Feedback Team of Brightline\n"
        f"<feedback@feedback.example.test> wrote:\n\n{QUOTED}\n"
    )
    assert_clean(reply(body), "Rejected - no budget.")


def test_reply_line_starting_with_on_is_kept() -> None:
    body = (
        f"On second thought we lost it.\nOn price, mostly.\n\nOn Mon, 4 Mar 2024, Feedback wrote:\n{QUOTED}"
    )
    assert_clean(reply(body), "On second thought we lost it.\nOn price, mostly.")


# --- attributions in many languages -----------------------------------------------------------------
@pytest.mark.parametrize(
    "attribution",
    [
        "On Mon, 4 Mar 2024 at 10:05, Feedback <feedback@feedback.example.test> wrote:",
        "Am Mo., 4. März 2024 um 10:05 Uhr schrieb Feedback <feedback@feedback.example.test>:",
        "Am 04.03.2024 um 10:05 schrieb Feedback:",
        "Le lun. 4 mars 2024 à 10:05, Feedback <feedback@feedback.example.test> a écrit :",
        "El lun, 4 mar 2024 a las 10:05, Feedback (<feedback@feedback.example.test>) escribió:",
        "Il giorno lun 4 mar 2024 alle ore 10:05 Feedback <feedback@feedback.example.test> ha scritto:",
        "Op ma 4 mrt 2024 om 10:05 schreef Feedback <feedback@feedback.example.test>:",
        "Em seg., 4 de mar. de 2024 às 10:05, Feedback <feedback@feedback.example.test> escreveu:",
        "W dniu 4.03.2024 o 10:05, Feedback <feedback@feedback.example.test> pisze:",
        "Den 4 mars 2024 kl. 10:05 skrev Feedback <feedback@feedback.example.test>:",
        "Den man. 4. mar. 2024 kl. 10.05 skrev Feedback <feedback@feedback.example.test>:",
        "man. 4. mar. 2024 kl. 10:05 skrev Feedback <feedback@feedback.example.test>:",
        "Feedback <feedback@feedback.example.test> kirjoitti 4.3.2024 klo 10.05:",
        "ma 4.3.2024 klo 10.05 Feedback (feedback@feedback.example.test) kirjoitti:",
        "2024-03-04 10:05 GMT+01:00 Feedback <feedback@feedback.example.test>:",
        "4 марта 2024 г., 10:05 пользователь Feedback <feedback@feedback.example.test> написал:",
        "2024年3月4日(月) 10:05 Feedback <feedback@feedback.example.test>:",
    ],
)
def test_attribution_languages_top_posted(attribution: str) -> None:
    assert_clean(reply(f"Won on price.\n\n{attribution}\n{QUOTED}\n"), "Won on price.")


# --- Outlook header blocks ----------------------------------------------------------------------------
OUTLOOK_BLOCKS = {
    "en": "From: Feedback <feedback@x.example>\nSent: Monday, March 4, 2024 10:05 AM\n"
    "To: Dana <d@x.example>\n"
    "Subject: What happened?",
    "en-reordered": "Sent: Monday, March 4, 2024 10:05 AM\nTo: Dana <d@x.example>\nFrom: Feedback "
    "<feedback@x.example>\nSubject: What happened?",
    "en-bold": "*From:* Feedback <feedback@x.example>\n*Date:* Monday, March 4, 2024\n*To:* Dana\n"
    "*Subject:* x",
    "de": "Von: Feedback <feedback@x.example>\nGesendet: Montag, 4. März 2024 10:05\nAn: Dana\n"
    "Betreff: Was ist?",
    "fr": "De : Feedback <feedback@x.example>\nEnvoyé : lundi 4 mars 2024 10:05\nÀ : Dana\nObjet : Qu'est",
    "es": "De: Feedback <feedback@x.example>\nEnviado: lunes, 4 de marzo de 2024 10:05\nPara: Dana\n"
    "Asunto: Qué",
    "it": "Da: Feedback <feedback@x.example>\nInviato: lunedì 4 marzo 2024 10:05\nA: Dana\nOggetto: Cosa",
    "nl": "Van: Feedback <feedback@x.example>\nVerzonden: maandag 4 maart 2024 10:05\nAan: Dana\n"
    "Onderwerp: Wat",
    "pt": "De: Feedback <feedback@x.example>\nEnviado: segunda-feira, 4 de março de 2024 10:05\nPara: Dana\n"
    "Assunto: O que",
    "pl": "Od: Feedback <feedback@x.example>\nWysłane: poniedziałek, 4 marca 2024 10:05\nDo: Dana\nTemat: Co",
    "sv": "Från: Feedback <feedback@x.example>\nSkickat: den 4 mars 2024 10:05\nTill: Dana\nÄmne: Vad",
    "da": "Fra: Feedback <feedback@x.example>\nSendt: 4. marts 2024 10:05\nTil: Dana\nEmne: Hvad",
    "fi": "Lähettäjä: Feedback <feedback@x.example>\nLähetetty: maanantai 4. maaliskuuta 2024 10.05\n"
    "Vastaanottaja: Dana\nAihe: Mitä",
}


@pytest.mark.parametrize("lang", sorted(OUTLOOK_BLOCKS))
@pytest.mark.parametrize(
    "separator", ["", "-----Original Message-----\n", "________________________________\n"]
)
def test_outlook_header_block_cuts_unquoted_history(lang: str, separator: str) -> None:
    body = f"Lost to Contoso.\n\n{separator}{OUTLOOK_BLOCKS[lang]}\n\n{REQUEST}\n"
    assert_clean(reply(body), "Lost to Contoso.")


@pytest.mark.parametrize(
    "separator",
    [
        "-----Ursprüngliche Nachricht-----",
        "-----Message d'origine-----",
        "-----Mensaje original-----",
        "---------- Forwarded message ---------",
        "Begin forwarded message:",
    ],
)
def test_separators(separator: str) -> None:
    body = f"Recycle please.\n\n{separator}\nFrom: Feedback\nDate: today\n\n{REQUEST}"
    assert_clean(reply(body), "Recycle please.")


def test_outlook_mobile_footer_and_rule() -> None:
    footer = "Get Outlook for iOS<https://aka.ms/o0ukef>"
    body = f"in progress\n\n{footer}\n{'_' * 32}\n{OUTLOOK_BLOCKS['en']}\n\n{REQUEST}"
    p = reply(body)
    assert_clean(p, "in progress")
    assert p.signature == "Get Outlook for iOS<https://aka.ms/o0ukef>"


def test_line_ending_in_an_address_without_quote_is_kept() -> None:
    assert reply("Lost. Ask 2 people at sales@b.example:\nthey know.").reply_text == (
        "Lost. Ask 2 people at sales@b.example:\nthey know."
    )


def test_single_to_line_in_reply_is_not_a_header_block() -> None:
    body = f"Rejected.\nTo: be clear, they are a student.\n\nOn Mon, Feedback wrote:\n{QUOTED}"
    assert_clean(reply(body), "Rejected.\nTo: be clear, they are a student.")


# --- layouts --------------------------------------------------------------------------------------------
def test_bottom_posted() -> None:
    body = f"On 3/4/24 10:05 AM, Feedback wrote:\n{QUOTED}\n\nWent dark after the pricing call.\n\n-- \nDana"
    p = reply(body)
    assert_clean(p, "Went dark after the pricing call.")
    assert p.signature == "Dana"


def test_inline_reply_keeps_own_lines_in_order() -> None:
    body = (
        "On Mon, 4 Mar 2024 at 10:05, Feedback <f@x.example> wrote:\n> Hi Dana,\n>\n"
        "> 1. What happened to this lead: accepted, rejected or recycled?\n\nRejected\n\n> 2. Why?\n"
        "Wrong contact - office manager\n>\n> Options:\n> - Accepted: meeting booked\n"
    )
    assert_clean(reply(body), "Rejected\nWrong contact - office manager")


def test_dashes_and_code_block_inside_reply_are_kept() -> None:
    own = "Lost.\n\n---\n\nDetails:\n```\nprice: 120k\n---\n```\nThat's all."
    assert_clean(reply(f"{own}\n\nOn Mon, Feedback wrote:\n{QUOTED}"), own)


def test_external_sender_banner_is_removed() -> None:
    body = (
        "CAUTION: This email originated from outside of the organization. Do not click links or open "
        "attachments unless you recognize the sender and know the content is safe.\n\n"
        f"Accepted - meeting booked.\n\nOn Mon, Feedback wrote:\n{QUOTED}"
    )
    assert_clean(reply(body), "Accepted - meeting booked.")
    assert_clean(reply("[EXTERNAL]\n\nAccepted.\n\n" + OUTLOOK_BLOCKS["en"] + "\n\n" + REQUEST), "Accepted.")


def test_second_reply_quoting_the_first() -> None:
    body = (
        "Correction: it was lost to Fabrikam.\n\nOn Tue, 5 Mar 2024, Dana Whitfield <dana@b.example> wrote:\n"
        "> Won!\n>\n> On Mon, 4 Mar 2024, Feedback <f@x.example> wrote:\n"
        + "\n".join(">" + line for line in QUOTED.split("\n"))
    )
    assert_clean(reply(body), "Correction: it was lost to Fabrikam.")


def test_second_outlook_reply_quoting_the_first() -> None:
    body = (
        "Sorry, wrong deal - lost on price.\n\nFrom: Dana <d@b.example>\nSent: Tuesday\nTo: Feedback\n"
        f"Subject: RE: x\n\nWon!\n\n{OUTLOOK_BLOCKS['en']}\n\n{REQUEST}"
    )
    assert_clean(reply(body), "Sorry, wrong deal - lost on price.")


def test_request_forwarded_to_colleague_who_answers() -> None:
    body = (
        "This one was mine: rejected, existing customer.\n\nFrom: Dana <d@b.example>\nSent: Monday\n"
        "To: Sam <sam@b.example>\nSubject: FW: What happened?\n\nSam, can you answer this?\n\n"
        f"---------- Forwarded message ---------\nFrom: Feedback <f@x.example>\nDate: Mon\n"
        f"Subject: What happened?\nTo: Dana\n\n{REQUEST}"
    )
    assert_clean(
        reply(body, from_="Sam Lee <sam@b.example>"), "This one was mine: rejected, existing customer."
    )


def test_apple_mail_attribution_inside_quote() -> None:
    body = (
        f"Converted to an opp.\n\n> On Mar 4, 2024, at 10:05 AM, Feedback <f@x.example> wrote:\n>\n{QUOTED}"
    )
    assert_clean(reply(body), "Converted to an opp.")


# --- HTML ----------------------------------------------------------------------------------------------
def test_html_gmail_quote_and_signature() -> None:
    html = (
        '<div dir="ltr">Accepted.<div>Demo on Friday.</div><br clear="all"><div><br></div>'
        '<span class="gmail_signature_prefix">-- </span><br>'
        '<div class="gmail_signature">Dana<br>AE</div></div>'
        '<br><div class="gmail_quote"><div class="gmail_attr">On Mon, Feedback wrote:<br></div>'
        '<blockquote class="gmail_quote"><p>Options:</p><p>- Rejected: not a fit, no budget, no need</p>'
        "</blockquote></div>"
    )
    p = reply(html, ctype="text/html")
    assert_clean(p, "Accepted.\nDemo on Friday.")
    assert p.html_only and p.signature is not None and "Dana" in p.signature


def test_html_outlook_divrplyfwdmsg_cuts_everything_after() -> None:
    html = (
        "<html><body><div>Rejected &ndash; duplicate.</div><div><br></div>"
        '<div id="appendonsend"></div><hr style="display:inline-block;width:98%">'
        '<div id="divRplyFwdMsg"><b>From:</b> Feedback<br><b>Sent:</b> Monday</div>'
        "<div><p>Options:</p><p>- Rejected: not a fit, no budget, no need</p></div></body></html>"
    )
    assert_clean(reply(html, ctype="text/html", charset="windows-1252"), "Rejected – duplicate.")


def test_html_outlook_desktop_header_block_without_ids() -> None:
    html = (
        '<div class="WordSection1"><p class="MsoNormal">Won.<o:p></o:p></p><p class="MsoNormal">Support.</p>'
        '<div style="border:none;border-top:solid #E1E1E1 1.0pt"><p class="MsoNormal"><b>From:</b> Feedback'
        "<br><b>Sent:</b> Monday<br><b>To:</b> Dana<br><b>Subject:</b> x</p></div>"
        '<p class="MsoNormal">Options:</p>'
        '<p class="MsoNormal">- Rejected: not a fit, no budget, no need</p></div>'
    )
    assert_clean(reply(html, ctype="text/html"), "Won.\nSupport.")


def test_html_inline_blockquotes_keep_own_lines() -> None:
    html = (
        "<div>On Mon, Feedback wrote:</div><blockquote>1. What happened?</blockquote><div>Lost</div>"
        "<blockquote>2. Why?</blockquote><div>Price</div><blockquote>Options: no budget, no need</blockquote>"
    )
    assert reply(html, ctype="text/html").reply_text == "Lost\n\nPrice" or (
        reply(html, ctype="text/html").reply_text == "Lost\nPrice"
    )


# --- signatures -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sign_off", "name"),
    [
        ("Thanks,", "Dana"),
        ("Best,", "Dana Whitfield"),
        ("Cheers", "Dana"),
        ("Kind regards,", "Dana Whitfield\nAccount Executive | Brightline\n+1 415 555 0134"),
        ("Danke", "Dana"),
        ("Viele Grüße", "Dana Whitfield"),
        ("Mit freundlichen Grüßen", "Dana Whitfield\nVertrieb"),
        ("Merci,", "Dana"),
        ("Cordialement,", "Dana Whitfield"),
        ("Gracias,", "Dana"),
        ("Saludos,", "Dana"),
        ("Un saludo,", "Dana"),
        ("Cordiali saluti,", "Dana"),
        ("Met vriendelijke groet,", "Dana"),
        ("Pozdrawiam,", "Dana"),
        ("Med vänliga hälsningar,", "Dana"),
    ],
)
def test_sign_offs_go_to_signature(sign_off: str, name: str) -> None:
    p = reply(f"Lost on price.\n\n{sign_off}\n{name}\n\nOn Mon, Feedback wrote:\n{QUOTED}")
    assert p.reply_text == "Lost on price."
    assert p.signature == f"{sign_off}\n{name}"


def test_name_only_and_contact_block() -> None:
    p = reply("Won - support model.\n\nDana\n\nDana Whitfield\nAccount Executive\nM: +1 (415) 555-0134\n")
    assert p.reply_text == "Won - support model."
    assert p.signature is not None and p.signature.startswith("Dana\n")


def test_short_form_of_first_name_is_a_signature() -> None:
    p = reply("Duplicate of Monday's lead.\n\nOli", from_="Oliver Hart <o@q.example>")
    assert (p.reply_text, p.signature) == ("Duplicate of Monday's lead.", "Oli")


def test_sentence_with_thanks_is_not_a_sign_off() -> None:
    p = reply("Closed won.\n\nThanks everyone who jumped in on this one.\n\nDana")
    assert p.reply_text == "Closed won.\n\nThanks everyone who jumped in on this one."


def test_a_lone_thanks_stays_reply_text() -> None:
    assert reply("Thanks!").reply_text == "Thanks!"


@pytest.mark.parametrize(
    "footer",
    [
        "Sent from my iPhone",
        "Von meinem iPhone gesendet",
        "Envoyé de mon iPhone",
        "Enviado desde mi iPhone",
        "Sent from my Samsung Galaxy smartphone.",
        "Get Outlook for Android",
    ],
)
def test_mobile_footers(footer: str) -> None:
    p = reply(f"not interested\n\n{footer}\n\n> On Mar 4, 2024, Feedback wrote:\n{QUOTED}")
    assert (p.reply_text, p.signature) == ("not interested", footer)


def test_disclaimer_goes_to_signature() -> None:
    body = (
        "Lost.\n\nDana\n\nCONFIDENTIALITY NOTICE: This email and any attachments are for the exclusive and "
        "confidential use of the intended recipient. If you are not the intended recipient, do not read it."
    )
    p = reply(body)
    assert p.reply_text == "Lost." and p.signature and "CONFIDENTIALITY" in p.signature


# --- auto-replies and bounces -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("extra", "subject"),
    [
        ("Auto-Submitted: auto-replied\r\n", "Re: x"),
        ("Auto-Submitted: auto-generated\r\nX-Auto-Response-Suppress: All\r\n", "Automatic reply: x"),
        ("X-Autoreply: yes\r\n", "Re: x"),
        ("X-Autorespond: Out of office\r\n", "Re: x"),
        ("Precedence: auto_reply\r\n", "Re: x"),
        ("Precedence: bulk\r\n", "Re: x"),
        ("", "Automatic reply: x"),
        ("", "Auto: x"),
        ("", "Out of Office: x"),
        ("", "Abwesenheitsnotiz: x"),
        ("", "Automatische Antwort: x"),
        ("", "Réponse automatique : x"),
        ("", "Absence: x"),
        ("", "Respuesta automática: x"),
        ("", "Fuera de la oficina: x"),
        ("", "Risposta automatica: x"),
    ],
)
def test_auto_replies(extra: str, subject: str) -> None:
    p = parse_message(mk("I am out of the office until Monday.", extra=extra, subject=subject))
    assert p.classification == "auto_reply" and p.auto_reason
    assert p.reply_text is None


def test_x_auto_response_suppress_alone_is_a_human_reply() -> None:
    p = parse_message(mk("Accepted.", extra="X-Auto-Response-Suppress: All\r\n", subject="RE: x"))
    assert p.classification == "reply" and p.reply_text == "Accepted."


def test_auto_submitted_no_is_a_human_reply() -> None:
    assert parse_message(mk("Accepted.", extra="Auto-Submitted: no\r\n")).classification == "reply"


def _dsn(action: str, status: str, original: str) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example (Mail Delivery System)\r\nTo: feedback+tok@feedback.example.test\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn1@mx.example>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n"
        f"Final-Recipient: rfc822; rep@brightline.example\r\nAction: {action}\r\nStatus: {status}\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
        f"--B\r\n{original}--B--\r\n"
    ).encode()


ORIGINAL = (
    "Message-ID: <req1@feedback.example.test>\r\nTo: Rep <rep@brightline.example>\r\nSubject: What?\r\n"
    "\r\nHi\r\n"
)


def test_dsn_bounce_with_attached_original() -> None:
    p = parse_message(_dsn("failed", "5.1.1", "Content-Type: message/rfc822\r\n\r\n" + ORIGINAL))
    assert p.classification == "bounce" and p.reply_text is None and p.bounce is not None
    assert p.bounce.recipient == "rep@brightline.example" and p.bounce.status == "5.1.1"
    assert p.bounce.original_message_id == "<req1@feedback.example.test>"
    assert p.bounce.original_recipients == ("rep@brightline.example",)
    assert p.bounce.permanent and p.bounce.diagnostic == "550 5.1.1 user unknown"


def test_delay_is_a_bounce_that_is_not_permanent() -> None:
    p = parse_message(_dsn("delayed", "4.4.1", "Content-Type: text/rfc822-headers\r\n\r\n" + ORIGINAL))
    assert p.classification == "bounce" and p.bounce is not None and not p.bounce.permanent
    assert p.bounce.original_message_id == "<req1@feedback.example.test>"


def test_non_standard_bounce_from_mailer_daemon() -> None:
    raw = (
        b"From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\r\nTo: feedback+tok@x.example\r\n"
        b"Subject: Delivery Status Notification (Failure)\r\nX-Failed-Recipients: rep@brightline.example\r\n"
        b"Content-Type: text/plain\r\n\r\nDelivery to the following recipient failed permanently:\r\n\r\n"
        b"     rep@brightline.example\r\n\r\n550 5.1.1 The email account does not exist.\r\n"
    )
    p = parse_message(raw)
    assert p.classification == "bounce" and p.bounce is not None
    assert p.bounce.recipient == "rep@brightline.example" and p.bounce.status == "5.1.1"


# --- charsets and encodings ---------------------------------------------------------------------------
def test_utf8_mislabelled_as_latin1() -> None:
    p = parse_message(mk("Verloren – Preis. Grüße".encode(), charset="iso-8859-1"))
    assert p.reply_text is not None and p.reply_text.startswith("Verloren – Preis")


def test_cp1252_without_charset() -> None:
    p = parse_message(mk("Perdu – prix trop élevé".encode("cp1252"), charset=None, cte="quoted-printable"))
    assert p.reply_text == "Perdu – prix trop élevé"


def test_unknown_charset_falls_back() -> None:
    p = parse_message(mk("Gagnée, prix".encode(), charset="x-unknown-42", cte="base64"))
    assert p.reply_text == "Gagnée, prix" and p.warnings


def test_rfc2047_headers() -> None:
    raw = mk(
        "ok",
        subject="=?utf-8?q?AW=3A_Was_ist_aus_dem_Lead_J=C3=BCrgen_geworden=3F?=",
        from_="=?iso-8859-1?b?SvxyZ2VuIFdlYmVy?= <jw@helio.example>",
    )
    p = parse_message(raw)
    assert p.subject == "AW: Was ist aus dem Lead Jürgen geworden?" and p.from_name == "Jürgen Weber"


def test_format_flowed_is_undone() -> None:
    body = "Working it, left two voicemails and she opened it \ntwice. Will keep you posted.\n"
    p = parse_message(mk(body, params="; format=flowed"))
    assert p.reply_text == "Working it, left two voicemails and she opened it twice. Will keep you posted."
    q = parse_message(mk("one  \ntwo\n", params="; format=flowed; delsp=yes"))
    assert q.reply_text == "one two"


def test_attachments_counted_and_ignored() -> None:
    raw = (
        b"From: Dana <d@b.example>\r\nSubject: Re: x\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="M"\r\n\r\n--M\r\nContent-Type: text/plain\r\n\r\n'
        b"Accepted.\r\n"
        b'--M\r\nContent-Type: image/png\r\nContent-Disposition: inline; filename="a.png"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0K\r\n"
        b'--M\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename="notes.txt"\r\n'
        b"\r\nno budget\r\n"
        b"--M--\r\n"
    )
    p = parse_message(raw)
    assert p.reply_text == "Accepted." and p.attachments == 2


# --- more shapes seen in the wild ---------------------------------------------------------------------
def test_unquoted_history_after_date_time_address_attribution() -> None:
    body = (
        "Lost on price.\n\nср, 30 апр. 2025 г. в 15:19, Feedback <feedback@x.example>:\n\nHi Dana, options..."
    )
    assert_clean(reply(body), "Lost on price.")


def test_attribution_wrapped_before_the_address_then_unquoted_history() -> None:
    body = "Won.\n\npe 20. lokakuuta 2017 klo 17.50 Feedback\n<feedback@x.example> kirjoitti:\n\nHi Dana"
    assert_clean(reply(body), "Won.")


def test_emoji_sign_off_and_rule_before_contact_block() -> None:
    body = "Thanks for the update!\n\nCheers 🎉\nDana\n\n—————\nDana Whitfield\nAE\n📱 +1 555-0123\n"
    p = reply(body)
    assert p.reply_text == "Thanks for the update!"
    assert p.signature is not None and p.signature.startswith("Cheers 🎉")


def test_from_and_timestamps_inside_prose_are_not_quotes() -> None:
    own = (
        "Emails come from: john@example.com and from: jane@example.com\n\n"
        "2024-01-15 14:30:25\n15.01.2024 14:30\nJan 15, 2024 at 14:30\n\nThose are just examples."
    )
    assert reply(own).reply_text == own


def test_rule_before_prose_is_not_a_signature() -> None:
    own = "Lost.\n\n___\n\nThe main reason was the missing SSO support.\nThey said so twice."
    assert reply(own).reply_text == own


def test_footer_prose_after_a_signature_rule_goes_to_signature() -> None:
    body = (
        "Recycle, they want to revisit in Q3.\n\nThanks,\n" + "_" * 20 + "\nDana Whitfield\nSales Ops\n"
        "Direct: (+1) 415-555-0134\n" + "_" * 78 + "\n\nTo report an issue with our sales tools, please "
        "write to the help desk, which is the only mailbox we monitor.\nPlease note this to avoid delays.\n"
    )
    p = reply(body)
    assert p.reply_text == "Recycle, they want to revisit in Q3."
    assert p.signature is not None and p.signature.endswith("avoid delays.")
