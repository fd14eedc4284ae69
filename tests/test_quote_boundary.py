"""The reply survives the quote boundary: above, beside and below every attribution form.

An empty or truncated reply from a message with text of its own is the dangerous failure: the
answer becomes "no outcome" and the rep is asked to clarify what they already said.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedback.mail import mail_words as lex
from feedback.mail.quotes import extract_reply

ADDR = "Feedback <feedback+abc@feedback.example>"
# one attribution per language and client shape the parser supports
ATTRIBUTIONS = (
    f"On Mon, Mar 2, 2026 at 9:14 AM {ADDR} wrote:",
    f"On 2 Mar 2026 at 09:14 +0100, {ADDR}, wrote:",
    f"On 02/03/2026 09:14, {ADDR} wrote:",
    f"Am Mo., 2. März 2026 um 09:14 Uhr schrieb {ADDR}:",
    f"Am 02.03.2026 um 09:14 schrieb {ADDR}:",
    f"Le lun. 2 mars 2026 à 09:14, {ADDR} a écrit :",
    f"El lun, 2 mar 2026 a las 9:14, {ADDR} escribió:",
    f"Il giorno lun 2 mar 2026 alle ore 09:14 {ADDR} ha scritto:",
    f"Op ma 2 mrt. 2026 om 09:14 schreef {ADDR}:",
    f"Em seg., 2 de mar. de 2026 às 09:14, {ADDR} escreveu:",
    f"Den mån 2 mars 2026 kl 09:14 skrev {ADDR}:",
    f"W dniu 2.03.2026 o 09:14, {ADDR} pisze:",
    # built from the lexicon (issue 16, item 2): more clients and languages
    f"On Monday, March 2, 2026, 09:14:07 AM GMT+1, {ADDR} wrote:",
    f"On Mon, 02 Mar 2026 09:14:07 +0100, {ADDR} sent:",
    f"Op 2 mrt. 2026, om 09:14 heeft {ADDR} het volgende geschreven:",
    f"mån 2 mars 2026 kl. 09:14 skrev {ADDR}:",
    f"man. 2. mar. 2026 kl. 09:14 skrev {ADDR}:",
    f"Den 2. mar. 2026 kl. 09.14 skrev {ADDR}:",
    f"ma 2.3.2026 klo 9.14 {ADDR} kirjoitti:",
    f"pon., 2 mar 2026 o 09:14 {ADDR} napisał(a):",
    f"Dne 2. 3. 2026 v 9:14 {ADDR} napsal(a):",
    f"пн, 2 мар. 2026 г. в 09:14, {ADDR}:",
    f"2 Mar 2026 Pzt, 09:14 tarihinde {ADDR} şunu yazdı:",
    f"2026年3月2日(月) 9:14 {ADDR}:",
    f"在 2026年3月2日，09:14，{ADDR} 写道：",
    f"2014-10-17 11:28 GMT+03:00 {ADDR}:",
    f"On 2 Mar 2026, at 09:14, {ADDR} wrote:",  # Apple Mail
    f"On 02.03.26 09:14, {ADDR} wrote:",  # Thunderbird
    f"On Monday, March 2nd, 2026 at 09:14, {ADDR} wrote:",  # Proton
    f"Il 02/03/2026 09:14, {ADDR} ha scritto:",
    f"Le 02/03/2026 à 09:14, {ADDR} a écrit :",
    # more languages and shapes (issue 16 follow-up): verb before the date, after a parenthesis,
    # no colon, time first, name first, right-to-left scripts with Gmail's bidi marks
    f"Pe lun., 2 mar. 2026 la 09:14, {ADDR} a scris:",
    f"пн, 2 бер. 2026 р. о 09:14 {ADDR} пише:",
    f"2 бер. 2026 р. о 09:14 {ADDR} написав(ла):",
    f"Στις Δευ 2 Μαρ 2026 στις 9:14 π.μ., ο/η {ADDR} έγραψε:",
    f"\u200fفي الاثنين، 2 مارس 2026 في 9:14 ص تمت كتابة ما يلي بواسطة \u202a{ADDR}\u202c\u200f:",
    f"El dl., 2 de març 2026 a les 9:14, {ADDR} va escriure:",
    f"2026년 3월 2일 (월) 오전 9:14, {ADDR}님이 작성:",
    f"\u202bבתאריך יום ב׳, 2 במרץ 2026 ב-9:14 מאת \u202a{ADDR}\u202c:\u202c",
    f"{ADDR} ezt írta (időpont: 2026. márc. 2., H, 9:14):",
    f"2026. márc. 2. 9:14 keltezéssel, {ADDR} írta:",
    f"po 2. 3. 2026 o 9:14 {ADDR} napísal(a):",
    f"{ADDR} je napisal/-a dne pon., 2. mar. 2026 ob 09:14:",
    f"pon, 2. ožu 2026. u 09:14 {ADDR} napisao je:",
    f"пон, 2. мар 2026. у 09:14 {ADDR} је написао/ла:",
    f"пн, 2.03.2026 г. в 9:14 ч. {ADDR} написа:",
    f"2026 m. kovo 2 d., pr, 09:14 {ADDR} rašė:",
    f"pirmd., 2026. g. 2. marts, plkst. 09:14 — lietotājs {ADDR} rakstīja:",
    f"E, 2. märts 2026 kell 09:14 {ADDR} kirjutas:",
    f"Pada tanggal Sen, 2 Mar 2026 pukul 09.14 {ADDR} menulis:",
    f"Pada Isn, 2 Mac 2026 pada 9:14 PG {ADDR} menulis:",
    f"เมื่อ จ. 2 มี.ค. 2026 เวลา 09:14 {ADDR} เขียนว่า:",
    f"सोम, 2 मार्च 2026 को 9:14 am बजे {ADDR} ने लिखा:",
    f"Wiadomość napisana przez {ADDR} w dniu 02.03.2026, o godz. 09:14:",  # Apple Mail pl
    f"{ADDR} schrieb am 02.03.2026 um 09:14:",  # the date after the verb
    f"On Mon, Mar 2, 2026 at 9:14 AM, {ADDR} wrote",  # no colon
    '9:14 AM, March 2, 2026, "Feedback" <feedback+abc@feedback.example>:',  # time first
    f"Am 02.03.2026 3:35 nachm. schrieb {ADDR}:",  # Android Gmail de: the half of the day
    # Outlook's "<mailto:...>" pieces inside the address
    "Am 02.03.2026 um 09:14 schrieb feedback+abc@feedback.example<mailto:feedback+abc@feedback.example> "
    "<feedback+abc@feedback.example<mailto:feedback+abc@feedback.example>>:",
)
# attributions over several lines, separators and header blocks: above and below only (nothing
# stands beside a block)
BLOCKS = (
    "On Mon, Mar 2, 2026 at 9:14 AM Feedback <\nfeedback+abc@feedback.example> wrote:",  # Gmail wrap
    "On Mon, Mar 2, 2026 at 9:14 AM Feedback\n<feedback+abc@feedback.example> wrote:",
    "-----Original Message-----\nFrom: Feedback [mailto:feedback+abc@feedback.example]\n"
    "Sent: Monday, March 2, 2026 9:14 AM\nTo: Dana Whitfield\nSubject: What happened?",
    "________________________________\nFrom: Feedback <feedback+abc@feedback.example>\n"
    "Sent: Monday, 2 March 2026 09:14\nTo: Dana Whitfield <dana@brightline.example>\n"
    "Subject: What happened?",
    "From: Feedback <feedback+abc@feedback.example<mailto:feedback+abc@feedback.example>>\n"
    "Date: Monday, 2 March 2026 at 09:14\nTo: Dana Whitfield\nSubject: What happened?",
    "Von: Feedback <feedback+abc@feedback.example>\nGesendet: Montag, 2. März 2026 09:14\n"
    "An: Dana Whitfield\nBetreff: Was ist passiert?",
    "De : Feedback <feedback+abc@feedback.example>\nEnvoyé : lundi 2 mars 2026 09:14\n"
    "À : Dana Whitfield\nObjet : Que s'est-il passé ?",
    "De: Feedback <feedback+abc@feedback.example>\nEnviado: lunes, 2 de marzo de 2026 9:14\n"
    "Para: Dana Whitfield\nAsunto: ¿Qué pasó?",
    "Van: Feedback <feedback+abc@feedback.example>\nVerzonden: maandag 2 maart 2026 09:14\n"
    "Aan: Dana Whitfield\nOnderwerp: Wat is er gebeurd?",
    "---- On Mon, 02 Mar 2026 09:14:07 +0100 Feedback <feedback+abc@feedback.example> wrote ----",
    "-------- Original Message --------\nSubject: What happened?\nDate: 2026-03-02 09:14\n"
    "From: Feedback <feedback+abc@feedback.example>",
    "On Mon, Mar 2, 2026 at 9:14 AM Feedback <feedback+abc@feedback.example\n>:",  # Gmail wrap before ">:"
    "-----Ursprüngliche Nachricht-----Von: Feedback <feedback+abc@feedback.example>\n"
    "Gesendet: Montag, 2. März 2026 09:14\nAn: Dana Whitfield\nBetreff: Was ist passiert?",
    "De la: Feedback <feedback+abc@feedback.example>\nTrimis: luni, 2 martie 2026 09:14\n"
    "Către: Dana Whitfield\nSubiect: Ce s-a întâmplat?",
    "Від: Feedback <feedback+abc@feedback.example>\nНадіслано: 2 березня 2026 р. 9:14\n"
    "Кому: Dana Whitfield\nТема: Що сталося?",
    "Temat: What happened? Nadawca: Feedback <feedback+abc@feedback.example> Adresat: Dana "
    "<dana@brightline.example> Data: 2026-03-02 09:14",
    # Zoho: the verb before the name, the line between dashes
    "---- Am Mo, 02 Mär 2026 09:14:07 +0100 schrieb Feedback <feedback+abc@feedback.example> ----",
    # Gmail's older dated forms: no time, no colon; wrapped at the address; the address trimmed
    "2026/3/2 Feedback <feedback+abc@feedback.example>",
    "2026/3/2 Feedback <\nfeedback+abc@feedback.example>",
    "2026-03-02 09:14 GMT+01:00 Feedback",
    # the name first, the date wrapped onto the next line (Google Inbox de)
    "Feedback <feedback+abc@feedback.example> schrieb am Mo., 2.\nMärz 2026 um 09:14 Uhr:",
)
# attributions a client wrapped over lines: a reply may also stand on their first line
WRAPPED = tuple(b for b in BLOCKS if b.startswith("On "))
QUOTE = "> Hi Dana, what happened to lead Peter Hoffmann (Globex)?\n> 1. Meeting booked\n> 5. No budget\n"

# the words a date in an attribution is made of: a reply of such words glued to the attribution
# ("Mo. Am 2. März ...", "OB. пн, 2 бер. ...") cannot be told from the attribution's own opening
DATE_VOCABULARY = frozenset(
    w.lower()
    for w in (*lex.WEEKDAYS, *lex.MONTHS, *lex.DATE_GLUE, *(x for ws in lex.START.values() for x in ws))
)
# reply sentences: words and punctuation a rep writes, never an attribution or a quote themselves
words = st.text(alphabet=st.characters(whitelist_categories=("Lu", "Ll")), min_size=2, max_size=9).filter(
    lambda w: w.lower() not in DATE_VOCABULARY
)
sentence = (
    st.lists(words, min_size=1, max_size=8)
    .map(lambda ws: " ".join(ws))
    .flatmap(lambda s: st.sampled_from([".", "!", "", ","]).map(lambda p: s + p))
)
reply_lines = (
    st.lists(sentence, min_size=1, max_size=3).map(lambda lines: [s for s in lines if s.strip()]).filter(bool)
)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# per attribution form (each form gets its own examples, so a new language is always exercised)
EACH = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _words(text: str) -> list[str]:
    return text.split()


@pytest.mark.parametrize("attribution", ATTRIBUTIONS)
@EACH
@given(reply=reply_lines, gap=st.sampled_from(["", "\n"]))
def test_a_reply_directly_above_the_attribution_survives(
    reply: list[str], attribution: str, gap: str
) -> None:
    body = "\n".join(reply) + "\n" + gap + attribution + "\n" + QUOTE
    assert _words(extract_reply(body).text) == _words("\n".join(reply))


@pytest.mark.parametrize("attribution", ATTRIBUTIONS)
@EACH
@given(reply=sentence.filter(lambda s: s.rstrip().endswith((".", "!"))))
def test_a_reply_on_the_attributions_line_survives(reply: str, attribution: str) -> None:
    body = f"{reply} {attribution}\n{QUOTE}"
    assert _words(extract_reply(body).text) == _words(reply)


@pytest.mark.parametrize("attribution", WRAPPED)
@EACH
@given(reply=sentence.filter(lambda s: s.rstrip().endswith((".", "!"))))
def test_a_reply_on_the_first_line_of_a_wrapped_attribution_survives(reply: str, attribution: str) -> None:
    """ "Not a fit. On Wed, ... Feedback" / "<f@x> wrote:": joined, the lines read as one
    attribution; the reply in front of it must not go with it."""
    body = f"{reply} {attribution}\n{QUOTE}"
    assert _words(extract_reply(body).text) == _words(reply)


@FAST
@given(reply=reply_lines, block=st.sampled_from(BLOCKS), gap=st.sampled_from(["", "\n"]))
def test_a_reply_directly_above_a_block_survives(reply: list[str], block: str, gap: str) -> None:
    body = "\n".join(reply) + "\n" + gap + block + "\n\n" + QUOTE.replace("> ", "")
    assert _words(extract_reply(body).text) == _words("\n".join(reply))


@FAST
@given(reply=reply_lines, block=st.sampled_from(BLOCKS))
def test_a_reply_below_a_quoted_block_survives(reply: list[str], block: str) -> None:
    quoted = "\n".join("> " + x for x in block.split("\n"))
    body = quoted + "\n" + QUOTE + "\n" + "\n".join(reply) + "\n"
    assert _words(extract_reply(body).text) == _words("\n".join(reply))


@pytest.mark.parametrize("attribution", ATTRIBUTIONS)
@EACH
@given(reply=reply_lines)
def test_a_reply_below_the_quote_survives(reply: list[str], attribution: str) -> None:
    body = attribution + "\n" + QUOTE + "\n" + "\n".join(reply) + "\n"
    assert _words(extract_reply(body).text) == _words("\n".join(reply))


@pytest.mark.parametrize("attribution", ATTRIBUTIONS)
@EACH
@given(reply=reply_lines)
def test_a_reply_below_an_attribution_without_its_quote_survives(reply: list[str], attribution: str) -> None:
    """An attribution first of all, the reply under it and no quote (a client or a list that
    dropped it): the text below is the reply, not unquoted history."""
    body = attribution + "\n\n" + "\n".join(reply) + "\n"
    assert _words(extract_reply(body).text) == _words("\n".join(reply))


@pytest.mark.parametrize(
    "body",
    [
        "As Tom wrote:\nthey have no budget this year, rejected.",
        "The CFO wrote:\nnot before Q3. Recycle.",
    ],
)
def test_wrote_inside_the_reply_is_not_an_attribution(body: str) -> None:
    assert extract_reply(body).text == body
