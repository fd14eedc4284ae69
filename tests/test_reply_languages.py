"""Attribution lines, header blocks, separators and footers of many clients in many languages.

Each family is a mechanism built from the lexicon (``feedback/mail/mail_words.py``): the cases are
written the way the clients write them (weekday and month abbreviations, wrapped lines,
``<mailto:...>`` pieces), and the reply above them must come out alone.
"""

from __future__ import annotations

import pytest

from feedback.mail import parse_message
from feedback.mail.quotes import extract_reply
from feedback.mail.signature import split_signature

A = "Feedback <feedback@feedback.example>"
REPLY = "Lost to Globex, budget went to them.\nClose it please."
QUOTE = "> Hi Dana, what happened to lead Peter Hoffmann?\n> 1. Meeting booked\n"
HISTORY = "Hi Dana,\nwhat happened to lead Peter Hoffmann?\n1. Meeting booked\n"

# one line per client shape and language (Gmail, Apple Mail, Thunderbird, Yahoo, Proton, Spark, ...)
ATTRIBUTION_LINES = [
    f"On Mon, Mar 2, 2026 at 9:14 AM {A} wrote:",  # Gmail en
    f"On 2 Mar 2026, at 09:14, {A} wrote:",  # Apple Mail en
    f"On 02/03/2026 09:14, {A} wrote:",  # Thunderbird en
    f"On Monday, March 2, 2026, 09:14:07 AM GMT+1, {A} wrote:",  # Yahoo
    f"On Monday, March 2nd, 2026 at 09:14, {A} wrote:",  # Proton
    f"On 2 Mar 2026 at 09:14 +0100, {A}, wrote:",  # Spark
    f"On Mon, 02 Mar 2026 09:14:07 +0100, {A} sent:",  # older clients
    f"Am Mo., 2. März 2026 um 09:14 Uhr schrieb {A}:",  # Gmail de
    f"Am 02.03.2026 um 09:14 schrieb {A}:",  # Apple Mail / Thunderbird de
    f"Le lun. 2 mars 2026 à 09:14, {A} a écrit :",  # Gmail fr
    f"Le 2 mars 2026 à 09:14, {A} a écrit :",  # Apple Mail fr
    f"El lun, 2 mar 2026 a las 9:14, {A} escribió:",  # Gmail es
    f"Il giorno lun 2 mar 2026 alle ore 09:14 {A} ha scritto:",  # Gmail it
    f"In data 2 marzo 2026 09:14:07, {A} ha scritto:",  # it other clients
    f"Em seg., 2 de mar. de 2026 às 09:14, {A} escreveu:",  # Gmail pt
    f"Op ma 2 mrt 2026 om 09:14 schreef {A}:",  # Gmail nl
    f"Op 2 mrt. 2026, om 09:14 heeft {A} het volgende geschreven:",  # Apple Mail nl
    f"Den mån 2 mars 2026 kl 09:14 skrev {A}:",  # sv
    f"mån 2 mars 2026 kl. 09:14 skrev {A}:",  # Gmail sv
    f"man. 2. mar. 2026 kl. 09:14 skrev {A}:",  # Gmail no
    f"Den 2. mar. 2026 kl. 09.14 skrev {A}:",  # Apple Mail da
    f"ma 2.3.2026 klo 9.14 {A} kirjoitti:",  # Gmail fi
    f"pon., 2 mar 2026 o 09:14 {A} napisał(a):",  # Gmail pl
    f"W dniu 2.03.2026 o 09:14, {A} pisze:",  # Thunderbird pl
    f"Dne 2. 3. 2026 v 9:14 {A} napsal(a):",  # cs
    f"po 2. 3. 2026 v 9:14 odesílatel {A} napsal:",  # Gmail cs
    f"пн, 2 мар. 2026 г. в 09:14, {A}:",  # Gmail ru
    f"2 марта 2026 г., в 09:14, {A} написал(а):",  # Apple Mail ru
    f"2 Mar 2026 Pzt, 09:14 tarihinde {A} şunu yazdı:",  # Gmail tr
    f"2026年3月2日(月) 9:14 {A}:",  # Gmail ja
    f"{A} 于2026年3月2日周一 09:14写道：",  # Gmail zh
    f"在 2026年3月2日，09:14，{A} 写道：",  # Apple Mail zh
    # more languages, as their Gmail / Apple Mail / Thunderbird / Outlook builds write them
    f"Pe lun., 2 mar. 2026 la 09:14, {A} a scris:",  # Gmail ro
    f"пн, 2 бер. 2026 р. о 09:14 {A} пише:",  # Gmail uk
    f"2 бер. 2026 р. о 09:14 {A} написав(ла):",  # Apple Mail uk
    f"Στις Δευ 2 Μαρ 2026 στις 9:14 π.μ., ο/η {A} έγραψε:",  # Gmail el
    f"في الاثنين، 2 مارس 2026 في 9:14 ص تمت كتابة ما يلي بواسطة {A}:",  # Gmail ar
    f"\u200fفي الاثنين، 2 مارس 2026 في 9:14 ص تمت كتابة ما يلي بواسطة \u202a{A}\u202c\u200f:",  # bidi marks
    f"كتب {A}:",  # ar, verb before the name
    f"El dl., 2 de març 2026 a les 9:14, {A} va escriure:",  # Gmail ca
    f"El 2 de març 2026, a les 9:14, {A} ha escrit:",  # Apple Mail ca
    f"2026년 3월 2일 (월) 오전 9:14, {A}님이 작성:",  # Gmail ko
    f"בתאריך יום ב׳, 2 במרץ 2026 ב-9:14 מאת {A}:",  # Gmail he
    f"ב-2 במרץ 2026, בשעה 9:14, {A} כתב/ה:",  # Apple Mail he
    f"{A} ezt írta (időpont: 2026. márc. 2., H, 9:14):",  # Gmail hu
    f"2026. márc. 2. 9:14 keltezéssel, {A} írta:",  # Thunderbird hu
    f"po 2. 3. 2026 o 9:14 {A} napísal(a):",  # Gmail sk
    f"Dňa 2. 3. 2026 o 9:14 {A} napísal:",  # Thunderbird sk
    f"{A} je napisal/-a dne pon., 2. mar. 2026 ob 09:14:",  # Gmail sl: the date after the verb
    f"pon, 2. ožu 2026. u 09:14 {A} napisao je:",  # Gmail hr
    f"пон, 2. мар 2026. у 09:14 {A} је написао/ла:",  # Gmail sr
    f"пн, 2.03.2026 г. в 9:14 ч. {A} написа:",  # Gmail bg
    f"2026 m. kovo 2 d., pr, 09:14 {A} rašė:",  # Gmail lt
    f"pirmd., 2026. g. 2. marts, plkst. 09:14 — lietotājs {A} rakstīja:",  # Gmail lv
    f"E, 2. märts 2026 kell 09:14 {A} kirjutas:",  # Gmail et
    f"Pada tanggal Sen, 2 Mar 2026 pukul 09.14 {A} menulis:",  # Gmail id
    f"Pada Isn, 2 Mac 2026 pada 9:14 PG {A} menulis:",  # Gmail ms
    f"เมื่อ จ. 2 มี.ค. 2026 เวลา 09:14 {A} เขียนว่า:",  # Gmail th
    f"सोम, 2 मार्च 2026 को 9:14 am बजे {A} ने लिखा:",  # Gmail hi
    f"Wiadomość napisana przez {A} w dniu 02.03.2026, o godz. 09:14:",  # Apple Mail pl
    f"{A} schrieb am 02.03.2026 um 09:14:",  # de: the date after the verb
    "Anna Berg schrieb am Mo., 2. März 2026 um 09:14:",
    f"On Mon, Mar 2, 2026 at 9:14 AM, {A} wrote",  # no colon
    '9:14 AM, March 2, 2026, "Feedback" <feedback@feedback.example>:',  # time first (older Gmail)
]

# attributions wrapped over several lines, as Gmail, Outlook web and Polymail send them
WRAPPED = [
    "On Mon, Mar 2, 2026 at 9:14 AM Feedback <\nfeedback@feedback.example> wrote:",
    "On Mon, Mar 2, 2026 at 9:14 AM Feedback\n<feedback@feedback.example>\nwrote:",
    "On Mon, Mar 2, 2026 at 9:14 AM Feedback\n\n<\nmailto:Feedback <feedback@feedback.example>\n> wrote:",
    "Am Mo., 2. März 2026 um 09:14 Uhr schrieb Feedback <\nfeedback@feedback.example>:",
    "Le lun. 2 mars 2026 à 09:14, Feedback <feedback@feedback.example> a\nécrit :",
    "2026-03-02 9:14 GMT+01:00 Feedback <\nfeedback@feedback.example>:",
    "On Mon, Mar 2, 2026 at 9:14 AM Feedback <feedback@feedback.example> w=\nrote:",
    "On Mon, Mar 2, 2026 at 9:14 AM Feedback <feedback@feedback.example\n>:",  # wrapped before ">:"
    "Am Mo., 2. März 2026 um 09:14 Uhr schrieb Feedback <feedback@feedback.example\n>:",
]

# Outlook (desktop, web, mobile) "From/Sent/To/Subject" blocks, per language
HEADER_BLOCKS = [
    "From: Feedback <feedback@x.example>\nSent: Monday, March 2, 2026 9:14 AM\nTo: Dana\nSubject: Lead",
    "From: Feedback [mailto:feedback@x.example]\nSent: Monday, March 2, 2026 9:14 AM\nTo: Dana\n"
    "Subject: Lead",
    "From: Feedback <feedback@x.example<mailto:feedback@x.example>>\nDate: Monday, 2 March 2026 at 09:14\n"
    "To: Dana <dana@x.example<mailto:dana@x.example>>\nSubject: Lead",
    "*From:* Feedback <feedback@x.example>\n*Sent:* Monday, March 2, 2026 9:14:07 AM\n*To:* Dana\n"
    "*Subject:* Lead",
    "Von: Feedback <feedback@x.example>\nGesendet: Montag, 2. März 2026 09:14\nAn: Dana\nBetreff: Lead",
    "De : Feedback <feedback@x.example>\nEnvoyé : lundi 2 mars 2026 09:14\nÀ : Dana\nObjet : Lead",
    "De: Feedback <feedback@x.example>\nEnviado el: lunes, 2 de marzo de 2026 9:14\nPara: Dana\nAsunto: Lead",
    "Da: Feedback <feedback@x.example>\nInviato: lunedì 2 marzo 2026 09:14\nA: Dana\nOggetto: Lead",
    "De: Feedback <feedback@x.example>\nEnviado: segunda-feira, 2 de março de 2026 09:14\nPara: Dana\n"
    "Assunto: Lead",
    "Van: Feedback <feedback@x.example>\nVerzonden: maandag 2 maart 2026 09:14\nAan: Dana\nOnderwerp: Lead",
    "Från: Feedback <feedback@x.example>\nSkickat: den 2 mars 2026 09:14\nTill: Dana\nÄmne: Lead",
    "Fra: Feedback <feedback@x.example>\nSendt: mandag 2. mars 2026 09:14\nTil: Dana\nEmne: Lead",
    "Fra: Feedback <feedback@x.example>\nSendt: 2. marts 2026 09:14\nTil: Dana\nEmne: Lead",
    "Lähettäjä: Feedback <feedback@x.example>\nLähetetty: maanantai 2. maaliskuuta 2026 9.14\n"
    "Vastaanottaja: Dana\nAihe: Lead",
    "Od: Feedback <feedback@x.example>\nWysłano: poniedziałek, 2 marca 2026 09:14\nDo: Dana\nTemat: Lead",
    "Od: Feedback <feedback@x.example>\nOdesláno: pondělí 2. března 2026 9:14\nKomu: Dana\nPředmět: Lead",
    "От: Feedback <feedback@x.example>\nОтправлено: 2 марта 2026 г. 9:14\nКому: Dana\nТема: Lead",
    "Kimden: Feedback <feedback@x.example>\nGönderildi: 2 Mart 2026 Pazartesi 09:14\nKime: Dana\nKonu: Lead",
    "差出人: Feedback <feedback@x.example>\n送信日時: 2026年3月2日 9:14\n宛先: Dana\n件名: Lead",
    "发件人: Feedback <feedback@x.example>\n发送时间: 2026年3月2日 9:14\n收件人: Dana\n主题: Lead",
    "发件人：Feedback <feedback@x.example>\n日期：2026年3月2日 9:14\n收件人：Dana\n主题：Lead",
    "De la: Feedback <feedback@x.example>\nTrimis: luni, 2 martie 2026 09:14\nCătre: Dana\nSubiect: Lead",
    "Від: Feedback <feedback@x.example>\nНадіслано: 2 березня 2026 р. 9:14\nКому: Dana\nТема: Lead",
    "Από: Feedback <feedback@x.example>\nΣτάλθηκε: Δευτέρα, 2 Μαρτίου 2026 9:14 π.μ.\nΠρος: Dana\nΘέμα: Lead",
    "من: Feedback <feedback@x.example>\nتاريخ الإرسال: الاثنين، 2 مارس 2026 09:14 ص\nإلى: Dana"
    "\nالموضوع: Lead",
    "De: Feedback <feedback@x.example>\nEnviat el: dilluns, 2 de març de 2026 9:14\nPer a: Dana"
    "\nAssumpte: Lead",
    "보낸 사람: Feedback <feedback@x.example>\n보낸 날짜: 2026년 3월 2일 월요일 오전 9:14\n받는 사람: Dana"
    "\n제목: Lead",
    "מאת: Feedback <feedback@x.example>\nנשלח: יום שני 02 מרץ 2026 09:14\nאל: Dana\nנושא: Lead",
    "Feladó: Feedback <feedback@x.example>\nElküldve: 2026. március 2. 9:14\nCímzett: Dana\nTárgy: Lead",
    "Od: Feedback <feedback@x.example>\nOdoslané: pondelok, 2. marca 2026 9:14\nKomu: Dana\nPredmet: Lead",
    "Od: Feedback <feedback@x.example>\nPoslano: ponedeljek, 2. marec 2026 09:14\nZa: Dana\nZadeva: Lead",
    "Šalje: Feedback <feedback@x.example>\nPoslano: ponedjeljak, 2. ožujka 2026. 9:14\nPrima: Dana\n"
    "Predmet: Lead",
    "Од: Feedback <feedback@x.example>\nПослато: понедељак, 2. март 2026. 9:14\nЗа: Dana\nТема: Lead",
    "От: Feedback <feedback@x.example>\nИзпратено: понеделник, 2 март 2026 г. 9:14\nДо: Dana\nОтносно: Lead",
    "Nuo: Feedback <feedback@x.example>\nIšsiųsta: 2026 m. kovo 2 d. 9:14\nKam: Dana\nTema: Lead",
    "No: Feedback <feedback@x.example>\nNosūtīts: pirmdiena, 2026. gada 2. martā 9:14\nKam: Dana\nTēma: Lead",
    "Saatja: Feedback <feedback@x.example>\nSaadetud: esmaspäev, 2. märts 2026 9:14\nAdressaat: Dana\n"
    "Teema: Lead",
    "Dari: Feedback <feedback@x.example>\nDikirim: Senin, 02 Maret 2026 09.14\nKepada: Dana\nSubjek: Lead",
    "จาก: Feedback <feedback@x.example>\nส่ง: วันจันทร์ที่ 2 มีนาคม 2026 9:14\nถึง: Dana\nเรื่อง: Lead",
    "प्रेषक: Feedback <feedback@x.example>\nभेजा गया: सोमवार, 2 मार्च 2026 9:14\nप्रति: Dana\nविषय: Lead",
]

# separators above unquoted history: "Original Message" and forwards in many languages, rules
SEPARATORS = [
    "-----Original Message-----",
    "-------- Original message --------",  # Samsung, Android
    "-----Ursprüngliche Nachricht-----",
    "-------- Message d'origine --------",
    "-----Mensaje original-----",
    "-----Messaggio originale-----",
    "-----Mensagem original-----",
    "-----Oorspronkelijk bericht-----",
    "-----Ursprungligt meddelande-----",
    "-----Oprindelig meddelelse-----",
    "-----Opprinnelig melding-----",
    "-----Alkuperäinen viesti-----",
    "-----Oryginalna wiadomość-----",
    "-----Původní zpráva-----",
    "-----Исходное сообщение-----",
    "-----Özgün İleti-----",
    "-----元のメッセージ-----",
    "------------------ 原始邮件 ------------------",
    "-----Reply Message-----",
    "---- On Mon, 02 Mar 2026 09:14:07 +0100 Feedback <feedback@x.example> wrote ----",  # Zoho
    "---- Feedback wrote ----",  # older Android
    "## Please type your reply above this line ##",  # ticket systems
    "-----Mesaj original-----",
    "-----Оригінальне повідомлення-----",
    "-----Αρχικό μήνυμα-----",
    "-----الرسالة الأصلية-----",
    "-----Missatge original-----",
    "-----원본 메시지-----",
    "-----הודעה מקורית-----",
    "-----Pôvodná správa-----",
    "-----Izvirno sporočilo-----",
    "-----Izvorna poruka-----",
    "-----Оригинална порука-----",
    "-----Оригинално съобщение-----",
    "-----Originalus laiškas-----",
    "-----Pesan Asli-----",
    "-----ข้อความต้นฉบับ-----",
    "---------- Mesaj redirecționat ---------",
    "---------- Переслане повідомлення ---------",
    "---------- Προωθημένο μήνυμα ---------",
    "---------- 전달된 메시지 ---------",
    # the first header line glued to the dashes (Outlook de/da)
    "-----Ursprüngliche Nachricht-----Von: Feedback <feedback@x.example>\nGesendet: Montag, 2. März 2026",
    "-----Oprindelig meddelelse-----Fra: Feedback <feedback@x.example>",
    # a header block printed on one line
    "Temat: Lead Nadawca: Feedback <feedback@x.example>"
    " Adresat: Dana <dana@x.example> Data: 2026-03-02 09:14",
]


@pytest.mark.parametrize("attribution", ATTRIBUTION_LINES)
def test_attribution_in_every_language_is_cut(attribution: str) -> None:
    for gap in ("\n\n", "\n"):
        got = extract_reply(REPLY + gap + attribution + "\n" + QUOTE)
        assert got.text == REPLY, attribution
        got = extract_reply(REPLY + gap + attribution + "\n\n" + HISTORY)  # unquoted history (Outlook)
        assert got.text == REPLY, attribution


@pytest.mark.parametrize("attribution", WRAPPED)
def test_wrapped_attribution_is_cut(attribution: str) -> None:
    assert extract_reply(REPLY + "\n\n" + attribution + "\n" + QUOTE).text == REPLY


@pytest.mark.parametrize("block", HEADER_BLOCKS)
def test_outlook_header_block_in_every_language_is_cut(block: str) -> None:
    for rule in ("", "________________________________\n", " ------------------------------\n"):
        got = extract_reply(REPLY + "\n\n" + rule + block + "\n\n" + HISTORY)
        assert got.text == REPLY, block


@pytest.mark.parametrize("separator", SEPARATORS)
def test_separators_in_every_language_are_cut(separator: str) -> None:
    assert extract_reply(REPLY + "\n\n" + separator + "\n" + HISTORY).text == REPLY


@pytest.mark.parametrize(
    "body",
    [
        "reply On Wed, Apr 4, 2012 at 3:59 PM, bob@example.com wrote:\n> Hi",
        "reply--- On Wed, Apr 4, 2012 at 3:59 PM, bob@example.com wrote:\n> Hi",
        "reply. ma 2.3.2026 klo 9.14 Feedback <f@x.example> kirjoitti:\n> Hi",
    ],
)
def test_reply_and_attribution_on_one_line(body: str) -> None:
    assert extract_reply(body).text.rstrip(".") == "reply"


def test_a_header_block_first_of_all_is_the_messages_own() -> None:
    body = "Od: Jan <jan@x.example>\nWysłano: środa, 1 marca 2023 12:00\nTemat: Lead\n\nCześć Anno,\nwygrana."
    assert extract_reply(body).text == "Cześć Anno,\nwygrana."


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            "---------- Forwarded message ---------\nFrom: A <a@x.example>\nDate: Mon, Mar 2, 2026\n"
            "Subject: Lead\nTo: b@x.example\n\nHello",
            "forward only",
        ),
        (
            "Begin forwarded message:\n\nFrom: A <a@x.example>\nDate: 2 March 2026\nSubject: Lead\n\nHi",
            "forward only",
        ),
        (f"{ATTRIBUTION_LINES[0]}\n{QUOTE}", "quote only"),
        ("> only a quote\n> and more", "quote only"),
        # a lone "From:" line is the only marker
        ("From: Feedback <feedback@x.example>\n> Hi Dana,\n> what happened?", "quote only"),
        ("De: Feedback <feedback@x.example>\n\n> Hola Dana", "quote only"),
        ("Von: feedback@x.example\n> Hallo Dana", "quote only"),
    ],
)
def test_quote_only_and_forward_only_are_empty_with_a_reason(body: str, reason: str) -> None:
    got = extract_reply(body)
    assert got.text == ""
    assert got.empty_reason is not None and got.empty_reason.startswith(reason)


def test_the_reason_reaches_the_parsed_messages_warnings() -> None:
    raw = (
        b"From: Dana <dana@x.example>\r\nTo: f@x.example\r\nSubject: Fwd: Lead\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        b"---------- Forwarded message ---------\r\nFrom: A <a@x.example>\r\nDate: Mon, Mar 2, 2026\r\n"
        b"Subject: Lead\r\nTo: b@x.example\r\n\r\nHello\r\n"
    )
    p = parse_message(raw)
    assert p.reply_text == ""
    assert any(w.startswith("forward only") for w in p.warnings)


# --- signatures and client footers -------------------------------------------------------------
FOOTERS = [
    "Sent from my iPhone",
    "Sent from my Samsung Galaxy smartphone.",
    "Sent from Yahoo Mail for iPhone",
    "Sent from Yahoo Mail on Android",
    "Sent with Proton Mail secure email.",
    "Sent with Spark",
    "Sent from Zoho Mail",
    "Sent from Mail for Windows",
    "Get Outlook for iOS",
    "Get Outlook for Android<https://aka.ms/AAb9ysg>",
    "Sent from a magnificent torch of pixels",
    "Von meinem iPhone gesendet",
    "Gesendet von Outlook für Android",
    "Envoyé de mon iPhone",
    "Télécharger Outlook pour Android",
    "Enviado desde mi iPhone",
    "Enviado desde mi Samsung Galaxy",
    "Inviato da iPhone",
    "Enviado do meu iPhone",
    "Verzonden vanaf mijn iPhone",
    "Skickat från min iPhone",
    "Sendt fra min iPhone",
    "Lähetetty iPhonesta",
    "Wysłane z iPhone'a",
    "Odesláno z iPhonu",
    "Отправлено с iPhone",
    "iPhone'umdan gönderildi",
    "iPhoneから送信",
    "发自我的iPhone",
    "Sent with Tuta; enjoy secure & ad-free emails: https://tuta.com",
    "Secured with Tuta Mail: https://tuta.com/free-email",
    "Diese Nachricht wurde von meinem Android Mobiltelefon mit GMX Mail gesendet.",
    "Sent from Outlook for iOS",
    "Inviato dal mio smartphone Samsung Galaxy.",
    "Trimis de pe iPhone",
    "Trimis de pe telefonul meu Samsung",
    "Відправлено з iPhone",
    "Надіслано з мого iPhone",
    "Εστάλη από iPhone",
    "Εστάλη από το iPhone μου",
    "أرسلت من iPhone",
    "Enviat des del meu iPhone",
    "iPhone에서 보냄",
    "נשלח מה-iPhone שלי",
    "iPhone-ról küldve",
    "Odoslané z iPhonu",
    "Poslano iz iPhona",
    "Poslano s mog iPhonea",
    "Послато са iPhone-а",
    "Изпратено от моя iPhone",
    "Išsiųsta iš iPhone",
    "Nosūtīts no mana iPhone",
    "Saadetud minu iPhone'ist",
    "Dikirim dari iPhone saya",
    "Dihantar daripada iPhone saya",
    "ส่งจาก iPhone ของฉัน",
    "मेरे iPhone से भेजा गया",
    "Gửi từ iPhone của tôi",
    # a link glued on
    "Sent from TypeApp<https://www.typeapp.com/r>",
    "Gesendet von Outlook für Android<https://aka.ms/ghei36>",
    "Sent from my Foxmail <https://www.foxmail.com>",
]


@pytest.mark.parametrize("footer", FOOTERS)
def test_client_footers_in_every_language_are_stripped(footer: str) -> None:
    body, sig = split_signature(f"{REPLY}\n\n{footer}", "Dana Scully")
    assert body == REPLY and sig is not None


@pytest.mark.parametrize(
    "closing",
    [
        "LG Anna",
        "VG, Anna",
        "JK",
        "-Sam",
        "- Sam",
        "/John",
        "-Maarten de Jong",
        "Regards, Roman",
        "Best,\nSam",
        "Kh\nPeter",
        "Mit freundlichen Grüßen\nAnna Berg",
        "Viele Grüße\nAnna",
        "Cordialement,\nJean Dupont",
        "Bien à vous,\nJean",
        "Saludos cordiales,\nJuan Pérez",
        "Un saludo,\nJuan",
        "Thanks,\nDana\nAccount Executive | Globex\n+1 555 010 9999",
        "Met vriendelijke groet,\nJan\n\nDit bericht is uitsluitend bestemd voor de geadresseerde.",
        "Pozdrawiam,\nJan\n\nTa wiadomość jest poufna i przeznaczona wyłącznie dla adresata.",
        "Best regards,\nDana\n\nCONFIDENTIAL: This e-mail and any attachments are confidential and intended "
        "solely for the addressee.",
        # closing formulas of more languages (the SIGN_OFFS table)
        "Adeus,\nJoão",
        "Cumprimentos,\nJoão Silva",
        "Do widzenia\nJan",
        "Pozdrawiam serdecznie,\nJan Kowalski",
        "Terveisin\nMatti",
        "Hyvästi",
        "Bonne fin de journée,\nJean",
        "Au revoir\nJean",
        "Cu stimă,\nIon Popescu",
        "З повагою,\nОлена",
        "Με εκτίμηση,\nΝίκος",
        "مع خالص التحية\nأحمد",
        "Salutacions,\nJordi",
        "감사합니다.\n김민수",
        "בברכה,\nדנה",
        "Üdvözlettel:\nKovács Anna",
        "S pozdravom\nJana",
        "Lep pozdrav,\nMaja",
        "Srdačan pozdrav,\nIvan",
        "С уважение,\nИван",
        "Pagarbiai,\nJonas",
        "Ar cieņu,\nAnna",
        "Lugupidamisega\nKati",
        "Terima kasih,\nBudi",
        "Mit freundlichen Gruessen\nAnna Berg",
    ],
)
def test_sign_offs_and_initials_after_the_text_are_stripped(closing: str) -> None:
    body, sig = split_signature(f"{REPLY}\n\n{closing}", "Sender")
    assert body == REPLY, closing
    assert sig is not None


@pytest.mark.parametrize(
    "text",
    [
        "No.",
        "Lost",
        "OK",
        "Won.\nNo",
        "Here is another email\n\nSent from my desk, is much easier than my mobile phone.",
        "Lost to Globex.\nGet back to me by Friday",
        "Lost. Thanks Thanmai",
        "Lost to Globex.\nGet the Samsung quote to me by Friday",
        "Ganhamos.\n\nAdeus à Globex, finalmente",
        "Lost\nSent the file via Outlook yesterday",
    ],
)
def test_a_short_last_line_that_is_the_answer_is_kept(text: str) -> None:
    assert split_signature(text, "Dana Scully")[0] == text


@pytest.mark.parametrize(
    "body",
    [
        "On Monday I sent them the proposal:\n- pricing\n- timeline\nThey went with Globex.",
        "On Monday I wrote to their CFO:\nno budget until Q3.",
        "> Did they book a meeting?\n- yes, Thursday\n> Budget?\n- approved",
        "Meeting booked.\nFrom: their CFO, 2 March at 10:00\nTo: me and Tom",
        "Won. Please reply above this line for future updates.",
        "Lost to Acme. 2026-03-02 09:14 call with Bob <bob@acme.com>:\nhe confirmed",
    ],
)
def test_sentences_that_look_like_markers_stay_in_the_reply(body: str) -> None:
    got = extract_reply(body).text
    for line in body.split("\n"):
        if not line.startswith(">"):
            assert line in got


def test_a_phone_number_above_a_header_block_stays_in_the_reply() -> None:
    sig = "John Doe\n555-941-0697"
    body = f"{REPLY}\n\n{sig}\n\n{HEADER_BLOCKS[0]}\n\n{HISTORY}"
    assert extract_reply(body).text == f"{REPLY}\n\n{sig}"


def test_a_thanks_written_as_a_sentence_above_a_closing_formula_is_part_of_the_answer() -> None:
    body, sig = split_signature("Perdemos para a Globex.\n\nObrigado.\n\nCumprimentos,\nJoão", "Sender")
    assert body == "Perdemos para a Globex.\n\nObrigado."
    assert sig == "Cumprimentos,\nJoão"


def test_a_client_footer_above_the_text_is_moved_out() -> None:
    assert split_signature(f"Sent from my iPhone\n\n{REPLY}", "Dana")[0] == REPLY


def test_what_follows_a_device_footer_is_history_not_reply() -> None:
    body, sig = split_signature(f"{REPLY}\n\nSent from my iPhone\n\n{HISTORY}", "Dana")
    assert body == REPLY
    assert sig is not None and sig.startswith("Sent from my iPhone")


def test_a_rule_of_dots_opens_a_company_footer() -> None:
    text = f"{REPLY}\n\n**. . . . . . .**\nGlobex GmbH | www.globex.example | +49 30 1234567"
    assert split_signature(text, "Dana")[0] == REPLY


@pytest.mark.parametrize(
    "line",
    [
        "Feedback <f@x.example> ezt írta (időpont: 2026. márc. 2., H, 9:14):",
        "Anna Berg schrieb am 02.03.2026 um 09:14:",
        "Wiadomość napisana przez Feedback <f@x.example> w dniu 02.03.2026, o godz. 09:14:",
        "J. Smith <j@x.example> wrote:",
        "On Mon, Mar 2, 2026 at 9:14 AM, Feedback <f@x.example> wrote",
        '9:14 AM, March 2, 2026, "Feedback" <f@x.example>:',
    ],
)
def test_a_reply_beside_a_name_first_or_colonless_attribution_survives(line: str) -> None:
    got = extract_reply(f"Lost to Globex. Close it. {line}\n{QUOTE}")
    assert got.text == "Lost to Globex. Close it."


def test_a_from_line_without_an_address_above_a_quote_stays() -> None:
    assert extract_reply("From: their CFO, this morning\n> Did they book a meeting?").text == (
        "From: their CFO, this morning"
    )
