"""Localised words of reply quoting, as data: ``quotes`` and ``signature`` compile them into patterns.

Mail clients build attribution lines, header blocks, separators and footers from a handful of
words per language (a verb such as "wrote", a start word such as "On", weekday and month names,
the labels of a From/Sent/To/Subject block, "Original Message", "Sent from my ..."). Listing the
words, not the clients, covers every client that uses them: a new language is a new row here.
Entries are plain text, matched case-insensitively; "(a)" style gender suffixes are written out.
"""

from __future__ import annotations


def words_of(text: str) -> tuple[str, ...]:
    """Space-separated words (long lists read better as text)."""
    return tuple(text.split())


# verbs that end an attribution line ("<...> wrote:"), per language
WROTE: dict[str, tuple[str, ...]] = {
    "en": ("wrote", "writes", "said", "sent"),
    "de": ("schrieb", "hat geschrieben", "geschrieben"),
    "fr": ("a écrit", "écrit", "a ecrit"),
    "es": ("escribió", "escribio"),
    "it": ("ha scritto", "scrisse", "scritto"),
    "pt": ("escreveu",),
    "nl": ("schreef", "heeft geschreven", "het volgende geschreven", "geschreven"),
    "sv": ("skrev",),
    "no": ("skrev", "skreiv"),
    "da": ("skrev",),
    "fi": ("kirjoitti",),
    "pl": ("napisał(a)", "napisała", "napisał", "pisze"),
    "cs": ("napsal(a)", "napsala", "napsal", "píše"),
    "ru": ("написал(а)", "написала", "написал", "пишет"),
    "tr": ("şunu yazdı", "yazdı"),
    "hu": ("írta",),
    "ja": ("は書きました", "書きました", "のメッセージ"),
    "zh": ("写道", "寫道"),
    "vi": ("đã viết", "viết"),
}

# verbs that may sit before the name ("Am ... schrieb Anna <a@x>:"); the others end the line
WROTE_BEFORE_NAME: tuple[str, ...] = (
    "schrieb",
    "schreef",
    "skrev",
    "skreiv",
    "escreveu",
    "ha scritto",
    "kirjoitti",
)
# verbs that are everyday words too ("sent", "said"): they count only after a start word
WROTE_NEEDS_START: tuple[str, ...] = (
    "said",
    "sent",
    "writes",
    "geschrieben",
    "écrit",
    "scritto",
    "pisze",
    "пишет",
    "píše",
)

# words an attribution line opens with ("On <date>, <name> wrote:")
START: dict[str, tuple[str, ...]] = {
    "en": ("On",),
    "de": ("Am",),
    "fr": ("Le",),
    "es": ("El",),
    "it": ("Il giorno", "Il", "In data"),
    "pt": ("Em", "No dia"),
    "nl": ("Op",),
    "sv": ("Den", "På"),
    "no": ("Den", "På"),
    "da": ("Den", "På"),
    "pl": ("W dniu", "Dnia", "Dn."),
    "cs": ("Dne",),
    "ru": ("В",),
    "zh": ("在", "于"),
    "vi": ("Vào",),
}

# the little words around a date and time in attributions ("kl.", "um", "à", "alle ore", "г.")
DATE_GLUE: tuple[str, ...] = (
    "at",
    "um",
    "uhr",
    "à",
    "a",
    "las",
    "alle",
    "ore",
    "às",
    "om",
    "kl",
    "klo",
    "kello",
    "o",
    "v",
    "в",
    "г",
    "de",
    "del",
    "den",
    "le",
    "el",
    "il",
    "giorno",
    "tarihinde",
    "dnia",
    "dne",
    "der",
    "the",
    "am",
    "pm",
    "gmt",
    "utc",
)

# weekday and month names with their usual abbreviations (a date in a line makes it an attribution)
WEEKDAYS: tuple[str, ...] = words_of(
    "mon tue tues wed thu thur thurs fri sat sun monday tuesday wednesday thursday friday saturday "
    "sunday mo di mi do fr sa so montag dienstag mittwoch donnerstag freitag samstag sonntag lun mar "
    "mer jeu ven sam dim lundi mardi mercredi jeudi vendredi samedi dimanche mié jue vie sáb dom "
    "lunes martes miércoles jueves viernes sábado domingo gio lunedì martedì mercoledì giovedì "
    "venerdì sabato domenica seg ter qua qui sex segunda terça quarta quinta sexta ma wo vr za zo "
    "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag mån tis ons tor fre lör sön måndag "
    "tisdag onsdag torsdag fredag lördag söndag man tir tors lør søn mandag tirsdag onsdag torsdag "
    "fredag lørdag søndag ti ke to pe la su maanantai tiistai keskiviikko torstai perjantai lauantai "
    "sunnuntai pon wt śr czw pt sob niedz poniedziałek wtorek środa czwartek piątek sobota niedziela "
    "po út st čt pá ne pondělí úterý středa čtvrtek pátek sobota neděle пн вт ср чт пт сб вс "
    "понедельник вторник среда четверг пятница суббота воскресенье pzt sal çar per cum cmt paz "
    "pazartesi salı çarşamba perşembe cuma cumartesi pazar"
)
MONTHS: tuple[str, ...] = words_of(
    "jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june july "
    "august september october november december jän mär mai okt dez januar februar märz juni juli "
    "oktober dezember janv févr fév avr juil août déc janvier février mars avril juin juillet "
    "septembre octobre novembre décembre ene abr ago dic enero febrero marzo mayo junio julio agosto "
    "septiembre setiembre octubre noviembre diciembre gen mag giu lug ott gennaio febbraio aprile "
    "maggio giugno luglio settembre ottobre dicembre fev set out dez janeiro fevereiro março maio "
    "junho julho setembro outubro novembro dezembro mrt mei januari februari maart augustus maj okt "
    "januari februari mars augusti des januar februar mars august desember tammik helmik maalisk "
    "huhtik toukok kesäk heinäk elok syysk lokak marrask jouluk tammikuuta helmikuuta maaliskuuta "
    "huhtikuuta toukokuuta kesäkuuta heinäkuuta elokuuta syyskuuta lokakuuta marraskuuta joulukuuta "
    "sty lut kwi cze lip sie wrz paź lis gru stycznia lutego marca kwietnia maja czerwca lipca "
    "sierpnia września października listopada grudnia led úno bře dub kvě čvn čvc srp zář říj lis pro "
    "ledna února března dubna května června července srpna září října listopadu prosince янв фев мар "
    "апр мая июн июл авг сен окт ноя дек января февраля марта апреля июня июля августа сентября "
    "октября ноября декабря oca şub nis haz tem ağu eyl eki kas ara ocak şubat mart nisan mayıs "
    "haziran temmuz ağustos eylül ekim kasım aralık"
)

# labels of the header block a client writes above the quoted message (From/Sent/To/Subject)
HEADER_LABELS: dict[str, tuple[str, ...]] = {
    "from": (
        "from",
        "von",
        "de",
        "da",
        "van",
        "od",
        "från",
        "fra",
        "lähettäjä",
        "feladó",
        "от",
        "kimden",
        "差出人",
        "送信者",
        "发件人",
        "寄件者",
        "寄件人",
        "mittente",
        "remitente",
        "expéditeur",
        "afzender",
        "avsändare",
        "afsender",
        "avsender",
        "nadawca",
        "odesílatel",
        "отправитель",
    ),
    "date": (
        "sent",
        "date",
        "gesendet",
        "datum",
        "envoyé",
        "enviado",
        "enviado el",
        "fecha",
        "inviato",
        "data",
        "verzonden",
        "wysłano",
        "wysłane",
        "skickat",
        "sendt",
        "lähetetty",
        "dátum",
        "отправлено",
        "дата",
        "odesláno",
        "gönderildi",
        "gönderilme",
        "tarih",
        "dato",
        "päivämäärä",
        "送信日時",
        "日付",
        "发送时间",
        "日期",
        "時間",
        "傳送時間",
        "寄件日期",
        "envoyé le",
        "sent at",
    ),
    "to": (
        "to",
        "an",
        "à",
        "a",
        "para",
        "aan",
        "do",
        "till",
        "til",
        "vastaanottaja",
        "címzett",
        "кому",
        "komu",
        "kime",
        "宛先",
        "收件人",
        "收件者",
        "destinatario",
        "destinataire",
        "empfänger",
    ),
    "cc": ("cc", "kopie", "cci", "bcc", "kopia", "kopio", "копия", "bilgi", "抄送", "副本", "kopi"),
    "subject": (
        "subject",
        "betreff",
        "objet",
        "asunto",
        "oggetto",
        "onderwerp",
        "assunto",
        "temat",
        "ämne",
        "emne",
        "aihe",
        "tárgy",
        "тема",
        "předmět",
        "konu",
        "件名",
        "主题",
        "主旨",
        "sujet",
    ),
}

# the noun of "-----Reply Message-----", "-----Antwort Nachricht-----": a dashed line naming a
# message is a separator whatever its adjective
MESSAGE_WORDS: tuple[str, ...] = (
    "message",
    "mail",
    "e-mail",
    "email",
    "nachricht",
    "mensaje",
    "messaggio",
    "bericht",
    "mensagem",
    "wiadomość",
    "meddelande",
    "meddelelse",
    "melding",
    "viesti",
    "zpráva",
    "сообщение",
    "письмо",
    "mesaj",
    "ileti",
    "メッセージ",
    "邮件",
    "郵件",
    "üzenet",
    "reply",
    "antwort",
    "réponse",
)

# "----- Original Message -----" and "---------- Forwarded message ----------", per language
ORIGINAL_MESSAGE: tuple[str, ...] = (
    "original message",
    "original mail",
    "ursprüngliche nachricht",
    "originalnachricht",
    "message d'origine",
    "message original",
    "mensaje original",
    "messaggio originale",
    "oorspronkelijk bericht",
    "origineel bericht",
    "mensagem original",
    "wiadomość oryginalna",
    "oryginalna wiadomość",
    "originalmeddelande",
    "ursprungligt meddelande",
    "oprindelig meddelelse",
    "opprinnelig melding",
    "alkuperäinen viesti",
    "původní zpráva",
    "исходное сообщение",
    "özgün ileti",
    "orijinal mesaj",
    "orijinal ileti",
    "元のメッセージ",
    "原始邮件",
    "原始郵件",
    "原邮件",
    "eredeti üzenet",
    "reply message",
    "original",
)
FORWARDED: tuple[str, ...] = (
    "forwarded message",
    "forwarded mail",
    "weitergeleitete nachricht",
    "message transféré",
    "message transfere",
    "mensaje reenviado",
    "messaggio inoltrato",
    "doorgestuurd bericht",
    "doorgestuurde bericht",
    "mensagem encaminhada",
    "mensagem reencaminhada",
    "wiadomość przekazana",
    "przekazana wiadomość",
    "vidarebefordrat meddelande",
    "videresendt meddelelse",
    "videresendt melding",
    "välitetty viesti",
    "přeposlaná zpráva",
    "пересылаемое сообщение",
    "пересланное сообщение",
    "iletilen ileti",
    "iletilmiş ileti",
    "転送されたメッセージ",
    "转发的邮件",
    "轉寄郵件",
    "továbbított üzenet",
)
# "Begin forwarded message:" (Apple Mail), per language
BEGIN_FORWARDED: tuple[str, ...] = (
    "begin forwarded message",
    "anfang der weitergeleiteten nachricht",
    "début du message réexpédié",
    "début du message transféré",
    "inicio del mensaje reenviado",
    "comienzo del mensaje reenviado",
    "inizio messaggio inoltrato",
    "begin doorgestuurd bericht",
    "início da mensagem reencaminhada",
    "início da mensagem encaminhada",
    "vidarebefordrat mejl",
    "videresendt e-mail",
    "videresendt e-post",
    "välitetty viesti alkaa",
    "początek przekazywanej wiadomości",
    "začátek přeposlané zprávy",
    "начало переадресованного сообщения",
    "iletilen e-posta başlangıcı",
    "転送されたメッセージ",
    "以下为转发的邮件",
)
# ticket and mailing-list lines above which the reply is written ("## Please reply above this line ##")
REPLY_ABOVE: tuple[str, ...] = (
    "reply above this line",
    "type your reply above this line",
    "write above this line",
    "please reply above",
    "antworten sie über dieser zeile",
    "bitte oberhalb dieser zeile antworten",
    "répondez au-dessus de cette ligne",
    "responda por encima de esta línea",
    "rispondi sopra questa riga",
    "antwoord boven deze lijn",
    "svara ovanför denna rad",
)

# "Sent from my iPhone" and app footers: the verb phrase, per language (the device/app follows)
SENT_FROM: tuple[str, ...] = (
    "sent from",
    "secured with",
    "diese nachricht wurde von",
    "diese nachricht wurde mit",
    "sent with",
    "sent via",
    "sent using",
    "sent on",
    "get",
    "download",
    "von meinem",
    "gesendet von",
    "gesendet mit",
    "envoyé de",
    "envoyé depuis",
    "envoyé avec",
    "enviado desde",
    "enviado con",
    "enviado do",
    "enviado de",
    "inviato da",
    "inviato con",
    "verzonden vanaf",
    "verzonden met",
    "verstuurd vanaf",
    "verstuurd vanaf mijn",
    "skickat från",
    "sendt fra",
    "lähetetty",
    "wysłane z",
    "wysłano z",
    "odesláno z",
    "отправлено с",
    "отправлено из",
    "发自",
    "来自",
    "從我的",
    "从我的",
)
# words that make a "Sent from ..." line a device or app footer, not a sentence of the reply
DEVICES: tuple[str, ...] = (
    "iphone",
    "ipad",
    "android",
    "mobile",
    "phone",
    "samsung",
    "galaxy",
    "blackberry",
    "outlook",
    "gmail",
    "yahoo",
    "proton",
    "protonmail",
    "tutanota",
    "tuta",
    "gmx",
    "spark",
    "zoho",
    "aol",
    "mail",
    "handy",
    "smartphone",
    "téléphone",
    "telephone",
    "móvil",
    "movil",
    "celular",
    "telefon",
    "telefono",
    "telefoon",
    "puhelimesta",
    "iphonesta",
    "iphone'a",
    "iphonu",
    "huawei",
    "xiaomi",
    "pixel",
    "nokia",
    "motorola",
    "oneplus",
    "tablet",
    "windows",
    "ios",
    "airmail",
    "newton",
    "superhuman",
    "hey",
    "fastmail",
    "mailbird",
    "edison",
    "canary",
    "bluemail",
    "nine",
    "thunderbird",
    "icloud",
    "mobil",
    "mobilen",
    "mobiltelefon",
    "телефона",
    "смартфона",
    "手机",
    "iphone-",
)
# device footers that put the device first ("iPhoneから送信", "iPhone'umdan gönderildi")
DEVICE_FIRST_SENT: tuple[str, ...] = ("から送信", "から送信しました", "dan gönderildi", "den gönderildi")
