"""Localised words of reply quoting, as data: ``quotes`` and ``signature`` compile them into patterns.

Mail clients build attribution lines, header blocks, separators and footers from a handful of
words per language (a verb such as "wrote", a start word such as "On", weekday and month names,
the labels of a From/Sent/To/Subject block, "Original Message", "Sent from my ..."). Listing the
words, not the clients, covers every client that uses them: a new language is a new row here.
Entries are plain text, matched case-insensitively; "(a)" style gender suffixes are written out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any


def words_of(text: str) -> tuple[str, ...]:
    """Space-separated words (long lists read better as text)."""
    return tuple(text.split())


def trie_pattern(words: Iterable[str]) -> str:
    """A regex alternation of literal words as a prefix tree ("wr(?:ote|ites)"): the same matches as
    a longest-first alternation, without trying every word at every position (a long table of
    words costs little more than a short one). A space in a word matches any run of spaces."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        alts = [(r"\s+" if ch == " " else re.escape(ch)) + build(child) for ch, child in node.items() if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie) or "(?!)"


def phrases_of(text: str) -> tuple[str, ...]:
    """Semicolon-separated phrases (phrases have spaces)."""
    return tuple(p.strip() for p in text.split(";") if p.strip())


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
    "hu": ("ezt írta", "írta"),
    "ja": ("は書きました", "書きました", "のメッセージ"),
    "zh": ("写道", "寫道"),
    "vi": ("đã viết", "viết"),
    "ro": ("a scris",),
    "uk": ("написав(ла)", "написала", "написав", "пише"),
    "el": ("έγραψε", "έγραψαν"),
    "ar": ("كتب", "كتبت"),
    "ca": ("va escriure", "ha escrit", "escrigué"),
    "ko": ("님이 작성", "작성"),
    "he": ("כתב/ה", "כתבה", "כתב"),
    "sk": ("napísal(a)", "napísala", "napísal"),
    "sl": ("je napisal(a)", "je napisal/-a", "je napisala", "je napisal", "je pisal(a)", "napisal"),
    "hr": ("je napisao/la", "napisao/la je", "napisao je", "napisala je", "je napisao", "napisao"),
    "sr": ("је написао/ла", "написао/ла је", "написао је", "написала је", "је написао", "написао"),
    "bg": ("написа",),
    "lt": ("rašė", "parašė"),
    "lv": ("rakstīja",),
    "et": ("kirjutas",),
    "id": ("menulis",),
    "th": ("เขียนว่า", "เขียน"),
    "hi": ("ने लिखा", "लिखा"),
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
    # "Anna <a@x> je napisal/-a dne pon., 2. mar. 2026 ob 09:14:" (sl): the date after the verb
    "je napisal(a)",
    "je napisal/-a",
    "ezt írta",
    # "Wiadomość napisana przez Anna <a@x> w dniu 02.03.2026, o godz. 09:14:" (Apple Mail pl)
    "wiadomość napisana przez",
    # "בתאריך יום ב׳, 2 במרץ 2026 ב-9:14 מאת Anna <a@x>:" (Gmail he), "... كتب Anna <a@x>:" (ar)
    "מאת",
    "كتب",
    # "... تمت كتابة ما يلي بواسطة Anna <a@x>:" (Gmail ar)
    "تمت كتابة ما يلي بواسطة",
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
    "пише",
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
    "ro": ("Pe", "În", "In data de"),
    "uk": ("У",),
    "el": ("Στις",),
    "ar": ("في", "بتاريخ"),
    "ca": ("El",),
    "he": ("בתאריך", "ביום"),
    "sk": ("Dňa", "V"),
    "sl": ("Dne", "V"),
    "hr": ("U",),
    "bg": ("На",),
    "id": ("Pada tanggal", "Pada", "Pd"),
    "th": ("เมื่อ", "เมื่อวันที่"),
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
    # a time's half of the day: "3:35 nachm.", "9.14 fm", "14 h 05"
    "nachm",
    "vorm",
    "fm",
    "em",
    "h",
    # ro, uk, el, ca, he, hu, sk/sl/hr, bg, baltic, id/ms, th, hi
    "la",
    "ora",
    "р",
    "о",
    "об",
    "στις",
    "π.μ",
    "μ.μ",
    "les",
    "ב",
    "בשעה",
    "időpont",
    "keltezéssel",
    "ob",
    "u",
    "у",
    "ч",
    "m",
    "d",
    "kell",
    "plkst",
    "pukul",
    "pada",
    "pd",
    "pg",
    "ptg",
    "เวลา",
    "को",
    "बजे",
    "오전",
    "오후",
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
    "pazartesi salı çarşamba perşembe cuma cumartesi pazar "
    # ro, uk, el, ca, hu, sk, sl, hr/sr, bg, lt, lv, et, id, ms
    "lun mar mie joi vin sâm dum luni marți miercuri joi vineri sâmbătă duminică "
    "пн вт ср чт пт сб нд понеділок вівторок середа четвер пʼятниця п'ятниця субота неділя "
    "δευ τρι τετ πεμ παρ σαβ κυρ δευτέρα τρίτη τετάρτη πέμπτη παρασκευή σάββατο κυριακή "
    "dl dt dc dj dv ds dg dilluns dimarts dimecres dijous divendres dissabte diumenge "
    "h k sze cs p szo v hétfő kedd szerda csütörtok csütörtök péntek szombat vasárnap "
    "po ut st št pi so ne pondelok utorok streda štvrtok piatok sobota nedeľa "
    "pon tor sre čet pet sob ned ponedeljek torek sreda četrtek petek sobota nedelja "
    "uto sri ponedjeljak utorak srijeda četvrtak petak subota nedjelja недеља понедељак "
    "нд пн вт ср чт пт сб понеделник вторник сряда четвъртък петък събота неделя "
    "pr an tr kt pn š sk pirmadienis antradienis trečiadienis ketvirtadienis penktadienis "
    "pirmd otrd trešd ceturtd piektd sestd svētd e t k n r l p "
    "sen sel rab kam jum sab min senin selasa rabu kamis jumat sabtu minggu isn kha ahd "
    "月 火 水 木 金 土 日 월 화 수 목 금 토 일 "
    "пон уто сре чет пет суб нед الاثنين الثلاثاء الأربعاء الخميس الجمعة السبت الأحد "
    "यव सोम मंगल बुध गुरु शुक्र शनि रवि सोमवार मंगलवार बुधवार गुरुवार शुक्रवार शनिवार रविवार"
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
    "haziran temmuz ağustos eylül ekim kasım aralık "
    # ro, uk, el, ca, hu, sk, sl, hr, sr, bg, lt, lv, et, id, ms
    "ian iun iul noi ianuarie februarie martie aprilie mai iunie iulie august septembrie octombrie "
    "noiembrie decembrie січ лют бер квіт трав черв лип серп вер жовт лист груд січня лютого березня "
    "квітня травня червня липня серпня вересня жовтня листопада грудня ιαν φεβ μαρ απρ μαΐ μαι ιουν "
    "ιουλ αυγ σεπ οκτ νοε δεκ ιανουαρίου φεβρουαρίου μαρτίου απριλίου μαΐου ιουνίου ιουλίου "
    "αυγούστου σεπτεμβρίου οκτωβρίου νοεμβρίου δεκεμβρίου gen febr març abr maig juny jul ag set "
    "oct nov des gener febrer abril juliol agost setembre octubre novembre desembre márc ápr máj "
    "jún júl szept január február március április május június július augusztus szeptember "
    "október november december máj jún júl januára februára marca apríla mája júna júla augusta "
    "septembra októbra novembra decembra januarja februarja marca aprila maja junija julija "
    "avgusta septembra oktobra novembra decembra sij velj ožu tra svi lip srp kol ruj lis stu pro "
    "siječnja veljače ožujka travnja svibnja lipnja srpnja kolovoza rujna listopada studenoga "
    "prosinca јан феб мар апр мај јун јул авг сеп окт нов дец јануар фебруар март април јун јул "
    "август септембар октобар новембар децембар януари февруари април юни юли септември октомври "
    "ноември декември sau vas kov bal geg bir lie rgp rgs spa lap gru sausio vasario kovo balandžio "
    "gegužės birželio liepos rugpjūčio rugsėjo spalio lapkričio gruodžio janv febr marts apr jūn "
    "jūl aug sept okt janvāris februāris marts aprīlis maijs jūnijs jūlijs augusts septembris "
    "oktobris novembris decembris jaan veebr märts apr mai juuni juuli aug sept okt nov dets "
    "jaanuar veebruar aprill juuni juuli august september oktoober november detsember jan peb mac "
    "mei jun jul ogo sep okt nov dis agu des januari februari maret april juni juli agustus "
    "oktober desember يناير فبراير مارس أبريل مايو يونيو يوليو أغسطس سبتمبر أكتوبر نوفمبر ديسمبر "
    "जनवरी फ़रवरी मार्च अप्रैल मई जून जुलाई अगस्त सितंबर अक्तूबर अक्टूबर नवंबर दिसंबर"
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
        # ro, uk, el, ar, ko, he, sk/sl/hr, sr, lt, lv, et, id/ms, th, hi
        "de la",
        "від",
        "από",
        "من",
        "보낸 사람",
        "מאת",
        "šalje",
        "шаље",
        "од",
        "nuo",
        "siuntėjas",
        "no",
        "sūtītājs",
        "saatja",
        "dari",
        "daripada",
        "pengirim",
        "จาก",
        "प्रेषक",
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
        "trimis",
        "dată",
        "data trimiterii",
        "надіслано",
        "відправлено",
        "στάλθηκε",
        "ημερομηνία",
        "تاريخ الإرسال",
        "التاريخ",
        "أرسلت",
        "enviat",
        "보낸 날짜",
        "날짜",
        "נשלח",
        "תאריך",
        "elküldve",
        "küldve",
        "odoslané",
        "poslano",
        "послато",
        "датум",
        "изпратено",
        "išsiųsta",
        "nosūtīts",
        "datums",
        "saadetud",
        "kuupäev",
        "dikirim",
        "tanggal",
        "dihantar",
        "tarikh",
        "ส่ง",
        "ส่งเมื่อ",
        "วันที่",
        "भेजा गया",
        "दिनांक",
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
        "către",
        "catre",
        "προς",
        "إلى",
        "per a",
        "받는 사람",
        "אל",
        "adresat",
        "za",
        "prima",
        "прима",
        "до",
        "kam",
        "kellele",
        "saaja",
        "kepada",
        "ถึง",
        "प्रति",
    ),
    "cc": (
        "cc",
        "kopie",
        "cci",
        "bcc",
        "kopia",
        "kopio",
        "копия",
        "bilgi",
        "抄送",
        "副本",
        "kopi",
        "копія",
        "κοιν",
        "نسخة",
        "참조",
        "עותק",
        "másolat",
        "kópia",
        "kopija",
        "копија",
        "tembusan",
        "สำเนา",
    ),
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
        "subiect",
        "θέμα",
        "الموضوع",
        "assumpte",
        "제목",
        "נושא",
        "predmet",
        "zadeva",
        "предмет",
        "относно",
        "tema",
        "temats",
        "tēma",
        "teema",
        "subjek",
        "perihal",
        "เรื่อง",
        "विषय",
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
    "повідомлення",
    "лист",
    "μήνυμα",
    "رسالة",
    "الرسالة",
    "missatge",
    "메시지",
    "הודעה",
    "správa",
    "sporočilo",
    "poruka",
    "порука",
    "съобщение",
    "laiškas",
    "ziņojums",
    "ziņa",
    "sõnum",
    "kiri",
    "pesan",
    "mesej",
    "ข้อความ",
    "संदेश",
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
    "oprindelig besked",
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
    "mesaj original",
    "mesajul original",
    "оригінальне повідомлення",
    "вихідне повідомлення",
    "початкове повідомлення",
    "αρχικό μήνυμα",
    "الرسالة الأصلية",
    "missatge original",
    "원본 메시지",
    "원래 메시지",
    "הודעה מקורית",
    "pôvodná správa",
    "izvirno sporočilo",
    "originalno sporočilo",
    "izvorna poruka",
    "originalna poruka",
    "оригинална порука",
    "оригинално съобщение",
    "първоначално съобщение",
    "originalus laiškas",
    "pradinis laiškas",
    "sākotnējais ziņojums",
    "oriģinālais ziņojums",
    "algne sõnum",
    "algsõnum",
    "pesan asli",
    "mesej asal",
    "ข้อความต้นฉบับ",
    "मूल संदेश",
    "thư gốc",
    "original meddelelse",
    "originalmelding",
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
    "mesaj redirecționat",
    "mesaj redirectionat",
    "mesaj transmis",
    "переслане повідомлення",
    "пересланий лист",
    "προωθημένο μήνυμα",
    "رسالة مُعاد توجيهها",
    "رسالة معاد توجيهها",
    "missatge reenviat",
    "전달된 메시지",
    "הודעה שהועברה",
    "preposlaná správa",
    "posredovano sporočilo",
    "proslijeđena poruka",
    "prosleđena poruka",
    "прослеђена порука",
    "препратено съобщение",
    "persiųstas laiškas",
    "pārsūtīts ziņojums",
    "edasisaadetud kiri",
    "pesan terusan",
    "pesan yang diteruskan",
    "mesej dimajukan",
    "ข้อความที่ส่งต่อ",
    "अग्रेषित संदेश",
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
    "începutul mesajului redirecționat",
    "початок пересланого повідомлення",
    "αρχή προωθημένου μηνύματος",
    "inici del missatge reenviat",
    "전달된 메시지 시작",
    "začiatok preposlanej správy",
    "začetek posredovanega sporočila",
    "početak proslijeđene poruke",
    "továbbított üzenet kezdete",
    "pesan yang diteruskan dimulai",
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
    # ro, uk, el, ar, ca, he, hu, sk, sl, hr/sr, bg, lt, lv, et, id/ms, th, vi
    "trimis de pe",
    "trimis din",
    "trimis cu",
    "відправлено з",
    "надіслано з",
    "εστάλη από",
    "στάλθηκε από",
    "أرسلت من",
    "أُرسلت من",
    "مرسل من",
    "تم الإرسال من",
    "enviat des de",
    "enviat des del",
    "enviat amb",
    "נשלח מה",
    "נשלח מ",
    "küldve",
    "elküldve",
    "odoslané z",
    "odoslané zo",
    "poslano iz",
    "poslano z",
    "poslano s",
    "poslano sa",
    "poslato sa",
    "послато са",
    "послато из",
    "изпратено от",
    "išsiųsta iš",
    "siųsta iš",
    "nosūtīts no",
    "sūtīts no",
    "saadetud",
    "dikirim dari",
    "dikirim menggunakan",
    "dihantar daripada",
    "dihantar dari",
    "ส่งจาก",
    "gửi từ",
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
    "typeapp",
    "aquamail",
    "k-9",
    "fairemail",
    "spike",
    "mailspring",
    "webmail",
    "telefonu",
    "telefonului",
    "telefonul",
    "telefonunu",
    "okostelefon",
    "iphoneomról",
    "iphone-omról",
    "iphone'ist",
    "iphonea",
    "iphone-a",
    "iphona",
)
# device footers that put the device first ("iPhoneから送信", "iPhone'umdan gönderildi")
DEVICE_FIRST_SENT: tuple[str, ...] = (
    "から送信",
    "から送信しました",
    "dan gönderildi",
    "den gönderildi",
    "-ról küldve",
    "-ről küldve",
    "ról küldve",
    "ről küldve",
    "에서 보냄",
    "에서 보낸 메일",
    " से भेजा गया",
)

# closing formulas, per language: a line that is one of these (alone, or with a name: "Regards,
# Roman", "LG Anna") followed only by signature-like lines starts the signature. German "ü/ö/ß"
# are also matched as "u/ue", "o/oe", "ss".
SIGN_OFFS: dict[str, tuple[str, ...]] = {
    "en": phrases_of(
        "thanks; thanks again; thanks so much; thanks a lot; thank you; thank you very much; many "
        "thanks; thx; tks; ty; cheers; best; all the best; best wishes; best regards; kind "
        "regards; warm regards; warmest regards; regards; with regards; br; sincerely; yours; "
        "yours truly; yours sincerely; talk soon; speak soon; take care; cordially; kind regards "
        "and thanks; goodbye; bye; have a nice day; have a great day; have a good day; rgds"
    ),
    "de": phrases_of(
        "mit freundlichen grüßen; freundliche grüße; viele grüße; beste grüße; liebe grüße; "
        "schöne grüße; herzliche grüße; grüße; gruß; lg; vg; mfg; danke; danke dir; danke ihnen; "
        "danke schön; vielen dank; tschüss; bis bald; auf wiedersehen; mit besten grüßen; mit "
        "herzlichen grüßen; mit lieben grüßen; herzlichen dank; besten dank; grüßle; grüessli; "
        "servus; ciao"
    ),
    "fr": phrases_of(
        "merci; merci beaucoup; merci bien; cordialement; bien cordialement; bien à vous; bien à "
        "toi; salutations; bonne journée; bonne soirée; amicalement; bises; au revoir; à bientôt; "
        "bonne fin de journée; bonne semaine; très cordialement; sincères salutations; meilleures "
        "salutations; belle journée; cdlt; slds"
    ),
    "es": phrases_of(
        "gracias; muchas gracias; saludos; saludos cordiales; un saludo; atentamente; un abrazo; "
        "abrazos; adiós; hasta pronto; hasta luego; cordialmente; salud; saludos cordiales"
    ),
    "it": phrases_of(
        "grazie; grazie mille; cordiali saluti; saluti; distinti saluti; un saluto; arrivederci; "
        "a presto; buona giornata"
    ),
    "nl": phrases_of(
        "met vriendelijke groet; met vriendelijke groeten; vriendelijke groet; vriendelijke "
        "groeten; groet; groeten; groetjes; bedankt; dank je; tot ziens; hartelijke groet; "
        "hartelijke groeten; mvg"
    ),
    "pt": phrases_of(
        "obrigado; obrigada; atenciosamente; abraços; abracos; abraço; um abraço; abs; att; atte; "
        "grato; grata; saudações; cumprimentos; melhores cumprimentos; com os melhores cumprimentos; "
        "adeus; até logo; até breve; beijos"
    ),
    "pl": phrases_of(
        "pozdrawiam; z poważaniem; z powazaniem; dziękuję; dziekuje; do widzenia; pozdrowienia; "
        "serdecznie pozdrawiam; pozdrawiam serdecznie; z wyrazami szacunku; pzdr"
    ),
    "nordic": phrases_of(
        "mvh; med vänliga hälsningar; vänliga hälsningar; med vänlig hälsning; vänlig hälsning; "
        "hälsningar; med venlig hilsen; venlig "
        "hilsen; vennlig hilsen; hilsen; tack; tak; takk; hej då; vh; bedste hilsner"
    ),
    "fi": phrases_of("ystävällisin terveisin; terveisin; kiitos; hyvästi; parhain terveisin; ystävällisesti"),
    "cs": phrases_of("s pozdravem; se srdečným pozdravem; děkuji; díky; na shledanou"),
    "ru": phrases_of("с уважением; всего доброго; спасибо; до свидания; с наилучшими пожеланиями"),
    "tr": phrases_of("saygılarımla; iyi çalışmalar; teşekkürler; teşekkür ederim; hoşça kal; sevgiler"),
    "ro": phrases_of(
        "cu stimă; cu stima; cu respect; toate cele bune; mulțumesc; multumesc; o zi bună; la "
        "revedere; numai bine"
    ),
    "uk": phrases_of("з повагою; дякую; всього найкращого; до побачення"),
    "el": phrases_of("με εκτίμηση; ευχαριστώ; φιλικά; με φιλικούς χαιρετισμούς; χαιρετισμούς"),
    "ar": phrases_of("مع التحية; مع خالص التحية; مع أطيب التحيات; تحياتي; شكرا; شكراً"),
    "ca": phrases_of("salutacions; cordialment; gràcies; moltes gràcies; adéu; fins aviat"),
    "ko": phrases_of("감사합니다; 안녕히 계세요"),
    "he": phrases_of("בברכה; תודה; תודה רבה"),
    "hu": phrases_of("üdvözlettel; tisztelettel; köszönöm; üdv; szép napot"),
    "sk": phrases_of("s pozdravom; ďakujem; s úctou"),
    "sl": phrases_of("lep pozdrav; lp; hvala; s spoštovanjem"),
    "hr": phrases_of("lijep pozdrav; srdačan pozdrav; pozdrav; s poštovanjem; srdačno"),
    "sr": phrases_of("срдачан поздрав; поздрав; хвала; с поштовањем"),
    "bg": phrases_of("поздрави; с уважение; благодаря"),
    "lt": phrases_of("pagarbiai; ačiū; su pagarba"),
    "lv": phrases_of("ar cieņu; paldies; sveicieni"),
    "et": phrases_of("lugupidamisega; parimate soovidega; tänan; aitäh"),
    "id": phrases_of("salam; hormat saya; hormat kami; terima kasih; salam hangat; yang benar"),
    "th": phrases_of("ขอบคุณครับ; ขอบคุณค่ะ; ขอบคุณ; ด้วยความเคารพ"),
    "hi": phrases_of("धन्यवाद; सादर"),
    "ja": phrases_of("よろしくお願いします; よろしくお願いいたします"),
    "zh": phrases_of("谢谢; 此致敬礼"),
    "vi": phrases_of("trân trọng; cảm ơn"),
    # abbreviations ("Kh" kind regards, "Hg" herzliche Grüße, ...)
    "abbrev": phrases_of("kh; bh; hg; bg"),
}
# closing formulas that thank: "Obrigado." written as a sentence above another closing formula
# ("Cumprimentos") is part of the answer
THANKS: tuple[str, ...] = words_of(
    "thanks thx ty danke merci gracias grazie bedankt obrigado obrigada dziękuję dziekuje tack tak "
    "takk kiitos děkuji díky спасибо teşekkürler mulțumesc multumesc дякую ευχαριστώ شكرا gràcies "
    "köszönöm ďakujem hvala хвала благодаря ačiū paldies tänan aitäh"
)

# company legal forms as written after a company name: a signature's company line ends with one
# ("Wisła Systemy Sp. z o.o.", "Solaria Energía S.L."), so its full stop does not end a sentence
LEGAL_FORMS: tuple[str, ...] = (
    "GmbH",
    "GmbH & Co. KG",
    "AG",
    "KG",
    "OHG",
    "UG",
    "e.K.",
    "e.V.",
    "SE",
    "Ltd",
    "Ltd.",
    "Limited",
    "PLC",
    "plc",
    "LLC",
    "LLP",
    "Inc",
    "Inc.",
    "Corp",
    "Corp.",
    "Co.",
    "S.A.",
    "SA",
    "S.A.S.",
    "SAS",
    "SARL",
    "S.A.R.L.",
    "S.L.",
    "S.L.U.",
    "SL",
    "S.p.A.",
    "SpA",
    "S.r.l.",
    "Srl",
    "S.R.L.",
    "B.V.",
    "BV",
    "N.V.",
    "NV",
    "AB",
    "Oy",
    "Oyj",
    "A/S",
    "AS",
    "ASA",
    "ApS",
    "Sp. z o.o.",
    "sp. z o.o.",
    "S.A. de C.V.",
    "s.r.o.",
    "a.s.",
    "Kft.",
    "Zrt.",
    "Nyrt.",
    "d.o.o.",
    "Pty Ltd",
    "Pty. Ltd.",
    "Pte Ltd",
    "Pte. Ltd.",
    "K.K.",
    "Lda.",
    "Ltda.",
    "Ltda",
    "S.C.",
    "S.R.O.",
    "OÜ",
    "UAB",
    "SIA",
    "A.Ş.",
)
