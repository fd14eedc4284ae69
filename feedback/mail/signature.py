"""Signature removal: split the sender's text into what they said and how they signed.

Mechanisms, in order: the ``-- `` delimiter; mobile footers ("Sent from my iPhone" in many
languages, "Get Outlook for iOS"); a sign-off line ("Thanks,", "Best regards", "Grüße",
"Cordialement", ...) followed only by signature-like lines; and, without a sign-off, a trailing
block that starts with the sender's own name (from the From header: full name, first name, a
short form such as "Oli" or an initial) followed by contact lines and legal disclaimers.
"Signature-like" means short lines without sentence punctuation, phone numbers, addresses, URLs,
``|``-separated titles, or a disclaimer paragraph. Patterns are anchored and bounded.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from feedback.mail import mail_words as lex
from feedback.mail.mail_words import words_of

_SIG_DELIM = re.compile(r"^--\s?$")
_RULE = re.compile(
    r"^\s*[-_=]{10,}\s*$"
)  # a long rule: a list or company footer below it  # RFC 3676 "-- " (and a bare "--"): always a signature
# a rule (dashes, or a row of dots "**. . . . .**"): a signature only if what follows is one
_SOFT_DELIM = re.compile(r"^\s*(?:[-—–_=*~]{1,120}|[*_]{0,2}(?:[.·•]\s?){5,60}[*_]{0,2})\s*$")
_MOBILE_FOOTER = re.compile(
    r"^\s*(?:"
    r"(?:sent|envoy[ée]|enviado|inviato|verzonden|verstuurd|gesendet|wys[łl]ane|skickat|sendt|l[äa]hetetty)"
    r"\b.{0,40}\b(?:iphone|ipad|android|mobile|phone|samsung|galaxy|blackberry|outlook|gmail|handy|"
    r"smartphone|t[ée]l[ée]phone|m[óo]vil|celular|telefon|puhelimesta|iphonesta|iphone'a)\b.{0,40}"
    r"|von meinem \S{1,20}(?: \S{1,20})? gesendet"
    r"|(?:get|download|obtener|t[ée]l[ée]charger|scarica|baixe|hent|skaffa|lataa)\s+outlook\b.{0,60}"
    # "Obtenir Outlook pour iOS", "Holen Sie sich Outlook für iOS", "Haal Outlook voor Android"
    r"|(?:\S+\s+){0,4}outlook\s+(?:f[üu]r|for|f[öo]r|pour|para|per|voor|dla|pro|til|p[åa])\s+(?:ios|android)\b.{0,60}"
    r")$",
    re.IGNORECASE,
)


def _words_alt(words: tuple[str, ...]) -> str:
    return "(?:" + lex.trie_pattern(words) + ")"


# "Sent with Proton Mail secure email.", "Get the Yahoo Mail app for Android", "Enviado desde mi
# Samsung", "iPhoneから送信": a sent-phrase of the lexicon and a device or app name, no comma; a
# "Sent from/with ..." line of a few words without punctuation is a footer too (a joke signature)
_DEVICE_WORDS = _words_alt(lex.DEVICES)
_APP_FOOTER = re.compile(
    rf"^\s*{_words_alt(lex.SENT_FROM)}(?:\b|(?<=[\u3400-\u9fff]))[^,;]{{0,60}}?{_DEVICE_WORDS}\b.{{0,80}}$"
    rf"|^\s*(?:\S{{1,20}}\s)?\S{{1,30}}?{_words_alt(lex.DEVICE_FIRST_SENT)}\S{{0,10}}$",
    re.IGNORECASE,
)
_SENT_SHORT = re.compile(
    r"^\s*(?:sent|envoy[ée]|enviado|inviato|verzonden|gesendet|skickat|sendt|wys[łl]ane|odesl[áa]no)"
    r"\s+(?:from|with|via|using|de|desde|da|con|vanaf|met|von|mit|fr[åa]n|fra|z|med)"
    r"\s+[^\W\d_][\w'’ -]{0,50}$",
    re.IGNORECASE,
)


_FOOTER_LINK = re.compile(r"\s?(?:<https?://[^<>\s]{1,300}>|\(?https?://\S{1,300}?\)?)\s*$", re.IGNORECASE)


# "Sent the file via Outlook yesterday", "Sent them the offer by phone": a verb with an object is
# a sentence of the answer, not a footer ("Sent from/with/via ...", "Lähetetty iPhonesta")
_SENT_OBJECT = re.compile(
    r"^\s*\S+\s+(?:the|a|an|it|them|him|her|this|that|our|their|everything|le|la|les|el|los|las|die|das|den|"
    r"dem|het|lo|gli)\s",
    re.IGNORECASE,
)


# mail-tracking marks a client extension appends on a line of their own (Streak's "ᐧ")
_TRACKER_MARKS = frozenset({"\u1427"})


_LINK_MAX = 312  # the most ``_FOOTER_LINK`` takes off the end of a stripped line


def _unlinked(line: str, limit: int) -> str:
    """The line without its trailing link; a line too long to be under ``limit`` without one is
    returned as it is (a paragraph: the link search would scan all of it for nothing)."""
    s = line.strip().strip("*_").strip()
    if len(s) > limit + _LINK_MAX:
        return s
    return _FOOTER_LINK.sub("", s).strip()


def is_client_footer(line: str) -> bool:
    """A mobile or app footer line ("Sent from my iPhone", "Get Outlook for iOS", ...)."""
    if line.strip() in _TRACKER_MARKS:
        return True
    # a link glued on or after the footer ("Sent from TypeApp<https://...>") is part of it
    s = _unlinked(line, 120)
    if not s or len(s) > 120 or _SENT_OBJECT.match(s):
        return False
    if _MOBILE_FOOTER.match(s) and "," not in s and not re.search(r"[.!?]\s*$", s.rstrip(".").strip() + "x"):
        return True
    if _IMPERATIVE.match(s) and len(s.split()) > 3 and not _APP_OFFER.search(s):
        return False  # "Get the Samsung quote to me by Friday" asks for something; "Get ... app" offers one
    return bool(_APP_FOOTER.match(s) or (_SENT_SHORT.match(s) and len(s.split()) <= 8))


def _strict_footer(line: str) -> bool:
    """A footer that names a device or an app ("Sent from my iPhone"), not a short "Sent with ..."."""
    s = _unlinked(line, 100)
    if not s or len(s) > 100 or "," in s or len(s.split()) > 8 or _IMPERATIVE.match(s):
        return False  # "Get the Samsung quote to me by Friday" is a sentence
    if re.search(r"[!?:;]|\.\s+\S", s) or re.match(r"^\s*sent\s+on\b", s, re.IGNORECASE):
        return False
    # the lexicon's "Sent from ..." phrases only: "Sent the quote via Gmail" is a sentence; "Sent
    # from my <any device>" names a device whatever its make ("Sent from my Wiko RIDGE FAB 4G")
    return bool(_APP_FOOTER.match(s) or _SENT_FROM_MY.match(s))


_SENT_FROM_MY = re.compile(
    r"^\s*(?:sent from my|envoy[ée] de mon|enviado desde mi|inviato dal mio|verzonden vanaf mijn|"
    r"skickat fr[åa]n min|sendt fra min|wys[łl]ane z mojego)\s+[^\W_][\w .+-]{0,40}$",
    re.IGNORECASE,
)


_IMPERATIVE = re.compile(r"^\s*(?:get|download)\b", re.IGNORECASE)
_APP_OFFER = re.compile(r"\b(?:app|for\s+(?:ios|android|iphone|ipad|windows|mac))\b", re.IGNORECASE)


def _spellings(phrase: str) -> set[str]:
    """A closing formula as written, without accents, and with German "ß"/umlauts spelled out."""
    out = {phrase}
    for p in (phrase, phrase.replace("ß", "ss")):
        out.add(p)
        out.add("".join(c for c in unicodedata.normalize("NFKD", p) if not unicodedata.combining(c)))
        out.add(p.replace("ü", "ue").replace("ö", "oe").replace("ä", "ae"))
    return out


def _phrase_alt(phrases: Iterable[str]) -> str:
    """An alternation of phrases, longest first, a space matching any run of spaces."""
    return lex.trie_pattern(phrases)


_ONE_SIGN_OFF = _phrase_alt(v for ps in lex.SIGN_OFFS.values() for p in ps for v in _spellings(p))
# two closing formulas joined: "Danke und Gruß", "Thanks & regards", "Mit freundlichen Grüßen / Kind
# regards" (bilingual house signatures), "Merci et bonne journée"
_SIGN_OFF_JOIN = r"\s*(?:/|&|\+|,|\b(?:and|und|et|y|e|en|och|og|i|a)\b)\s*"
_SIGN_OFF_WORDS = rf"(?:{_ONE_SIGN_OFF})(?:{_SIGN_OFF_JOIN}(?:{_ONE_SIGN_OFF})){{0,2}}"
_THANKS = re.compile(rf"^\s*(?:{_phrase_alt(lex.THANKS)})\b.{{0,30}}[.!]\s*$", re.IGNORECASE)
_SIGN_OFF = re.compile(
    rf"^\s*(?:{_SIGN_OFF_WORDS})\s?[,.!;:—–-]{{0,3}}(?:\s?[^\w\s]{{1,4}})?\s*$", re.IGNORECASE
)
_SIGN_OFF_NAMED = re.compile(
    rf"^\s*(?:{_SIGN_OFF_WORDS})(?:\s?[,!—–-]{{1,2}}\s*|\s+)(\S.{{0,40}})$", re.IGNORECASE
)
_AMBIGUOUS_SIGN_OFF = re.compile(r"^\s*(?:best|ty|tak|tack|takk|yours|br|cheers|thanks)\s+\w", re.IGNORECASE)
# "-Sam", "- Anna Berg", "/John", "~ Jo": a name signed with a dash or slash
_DASH_NAME = re.compile(r"^\s*[-–—~/]\s?([^\W\d_][\w'’.-]*(?:\s[^\W\d_][\w'’.-]*){0,2})\s*$")
# "JK", "A.B.": bare initials as the last line (not a short answer such as "OK" or "NO")
_INITIALS = re.compile(r"^\s*(?:[A-ZÀ-Ý]\.?){1,3}\s*$")
_SHORT_ANSWERS = frozenset(words_of("ok no na si ja nej nee oui non yes sí да нет ne nie tak ano"))


def _signed_name(name: str, from_name: str | None) -> bool:
    """The name after a sign-off or dash: the sender's, or one to three capitalised words."""
    if is_name_line(name, from_name):
        return True
    words = [w for w in name.split() if w.lower() not in _NAME_PARTICLES]
    return 1 <= len(words) <= 3 and all(w[:1].isupper() for w in words) and not _SENTENCE_END.search(name)


_NAME_PARTICLES = frozenset(words_of("de van von der den da di la le du del dos das ten ter zu af"))
_CONTACT = re.compile(
    r"(?:\+?\d[\d ()./-]{6,}\d|@|https?://|www\.|\.[a-z]{2,6}\b|\||\bT:|\bM:|\bP:|\bTel\b|\bPhone\b|"
    r"\bMobile?\b|\bFax\b|☎|✆)",
    re.IGNORECASE,
)
_DISCLAIMER = re.compile(
    r"^\s*(?:confidential|this (?:e-?mail|message|communication)|the information (?:contained|in)|"
    # a legal notice's heading in the four languages and their neighbours ("AVISO LEGAL: Este ...")
    r"aviso legal|avis (?:juridique|de confidentialit[ée])|avertissement\s?:|rechtlicher hinweis|"
    r"haftungsausschluss|vertraulichkeitshinweis|avviso legale|clausola di riservatezza|"
    r"aviso de confidencialidad|nota de confidencialidad|confidencialidad\s?:|confidentialit[ée]\s?:|"
    r"vertrouwelijkheid|juridisk information|"
    r"disclaimer|privileged|notice\s?:|legal notice|"
    r".{0,60}\b(?:registered in|registered office|company (?:no|number|registration)|"
    r"amtsgericht|handelsregister|gesch[äa]ftsf[üu]hr|sitz der gesellschaft|ust-?id|"
    r"siret|rcs\b|capital social|si[èe]ge social|registro mercantil|cif\b)"
    r"|diese (?:e-?mail|nachricht)|ce (?:message|courriel|e-?mail)|este (?:mensaje|correo)|"
    r"questo messaggio|please consider the environment|dit (?:e-?mail)?bericht|deze e-?mail|"
    r"esta mensagem|este e-?mail|detta (?:e-?post)?meddelande|denne (?:e-?mail|meddelelse|meldingen)|"
    r"tämä (?:sähköposti)?viesti|ta wiadomość|tato (?:e-?mailová )?zpráva|это (?:сообщение|письмо)|"
    r"bu e-?posta|この(?:電子)?メール|本邮件|此邮件)",
    re.IGNORECASE,
)
# a company line: "Wisła Systemy Sp. z o.o.", "Nordwerk Automation GmbH" (case as written)
_LEGAL_FORM_END = re.compile(
    r"\s(?:" + "|".join(re.escape(f) for f in sorted(lex.LEGAL_FORMS, key=len, reverse=True)) + r")\s*$"
)
_ABBREV_END = re.compile(r"(?:^|\s)(?:[A-Z][a-z]{0,3}|[A-Z](?:\.[A-Z])+)\.$")
_SENTENCE_END = re.compile(r"[.!?…]\s*$")
_WORD = re.compile(r"[^\W\d_][\w'’.-]*", re.UNICODE)
MAX_SIG_LINES = 14


def _name_forms(from_name: str | None) -> tuple[set[str], str]:
    """Lower-cased words of the sender's name and the first name."""
    if not from_name:
        return set(), ""
    name = from_name
    if "," in name:  # "Doe, Jane"
        last, _, first = name.partition(",")
        name = f"{first} {last}"
    words = [w.lower() for w in _WORD.findall(name)]
    return set(words), (words[0] if words else "")


def is_name_line(line: str, from_name: str | None) -> bool:
    """A line that is (or starts with) the sender's name, a short form of it, or initials."""
    s = line.strip()
    if not s or len(s) > 60:
        return False
    head = re.split(r"\s[|·•,–—-]\s|,", s, maxsplit=1)[0].strip()
    words = _WORD.findall(head)
    if not words or len(words) > 4 or len(words) != len(head.split()):
        return False
    forms, first = _name_forms(from_name)
    if forms:
        low = [w.lower().rstrip(".") for w in words]
        if all(w in forms for w in low):
            return True
        if len(low) == 1 and first and first.startswith(low[0]) and words[0][0].isupper():
            return True  # "Oli" for Oliver, "H" for Hamish
        if all(len(w) == 1 for w in low) and len(low) <= 3 and all(w.isupper() for w in words):
            return "".join(low) in {"".join(x[0] for x in forms), first[:1]}
        return False
    return 2 <= len(words) <= 3 and all(w[0].isupper() for w in words) and not _SENTENCE_END.search(s)


def _sig_like(line: str, from_name: str | None) -> bool:
    s = line.strip()
    if not s:
        return True
    if _CONTACT.search(s) or is_name_line(s, from_name):
        return True
    if len(s) > 60 or s.endswith(":") or s.startswith("```"):
        return False
    if _SENTENCE_END.search(s) and not _ABBREV_END.search(s) and not _LEGAL_FORM_END.search(s):
        return False
    return len(s.split()) <= 7


def _has_identity(lines: list[str], start: int, from_name: str | None) -> bool:
    """Whether a name or contact line follows: a bare rule before prose is not a signature."""
    return any(_CONTACT.search(x) or is_name_line(x, from_name) for x in lines[start:] if x.strip())


def _tail_is_signature(lines: list[str], start: int, from_name: str | None) -> bool:
    """Whether lines[start:] are all signature-like (disclaimer paragraphs allowed).

    A rule line after some signature lines ends the check: what follows a signature's closing
    rule is company footer (support addresses, legal text), whatever its wording.
    """
    nonblank = 0
    in_disclaimer = False
    for j in range(start, len(lines)):
        s = lines[j].strip()
        if not s:
            in_disclaimer = False
            continue
        if nonblank and _SOFT_DELIM.match(s):
            return True
        if in_disclaimer or _DISCLAIMER.match(s):
            in_disclaimer = True
            continue
        nonblank += 1
        if nonblank > MAX_SIG_LINES or not _sig_like(s, from_name):
            return False
    return True


def _drop_trailing_footers(lines: list[str], sig_parts: list[str]) -> None:
    """Move the blank and client-footer lines at the end of ``lines`` to the front of ``sig_parts``."""
    while lines and (not lines[-1].strip() or is_client_footer(lines[-1])):
        if lines[-1].strip():
            sig_parts.insert(0, lines[-1].strip())
        lines.pop()


def _is_sign_off(line: str, from_name: str | None) -> bool:
    """A closing formula alone ("Best regards,") or with a name ("Thanks, Dana", "-Sam")."""
    if _SIGN_OFF.match(line):
        return True
    named = _SIGN_OFF_NAMED.match(line) or _DASH_NAME.match(line)
    if named and _AMBIGUOUS_SIGN_OFF.match(line):
        return False  # "Best Buy", "Tak Lee": a word that is a sign-off only with a comma
    return bool(named and _signed_name(named.group(1), from_name))


_BULLET = re.compile(r"^\s*([-–—•*·])\s")


def _in_list(lines: list[str], i: int) -> bool:
    """Whether line ``i`` is an item of a list: a line next to it opens with the same bullet
    ("- A" / "- B" is a list, not "-Sam" signing off)."""
    m = _BULLET.match(lines[i])
    if not m:
        return False
    near = [k for k in (i - 1, i + 1) if 0 <= k < len(lines) and lines[k].strip()]
    return any((b := _BULLET.match(lines[k])) is not None and b.group(1) == m.group(1) for k in near)


# a contact card's strong lines: a phone number, an address, a link
_CARD_CONTACT = re.compile(
    r"(?:\+?\d[\d ()./-]{6,}\d|[\w.+-]+@[\w-]+\.[\w.-]+|https?://|www\.|\b(?:tel|phone|mobile?|fax|mob)\b\s?[.:]?)",
    re.IGNORECASE,
)


# a line that introduces what follows ("The new contact is:"), not an emoji code (":+1:")
_INTRODUCES = re.compile(r"[^\W\d_]\s?[:：]\s*$")
_EMOJI_CODE_END = re.compile(r"(?:^|\s):[\w+-]{1,30}:\s*$")


def _card_at(lines: list[str], i: int) -> bool:
    """Whether a contact card starts at line ``i``: a name (two to four capitalised words, maybe
    with "| title" or ", title"), then within the next lines at least two phone, address or link
    lines, every line up to them signature-like. A card ends what the sender typed: the
    paragraphs below it are its footer (disclaimers, notices), whatever their wording. Whose
    name it is does not matter (a shared mailbox, a colleague's card pasted by the client)."""
    head = re.split(r"\s[|·•,–—-]\s|,", lines[i].strip().strip("*_ "), maxsplit=1)[0]
    words = _WORD.findall(head.replace("*", "").replace("_", " "))
    if not 2 <= len(words) <= 4 or len(words) != len(head.split()) or not all(w[0].isupper() for w in words):
        return False
    if _SENTENCE_END.search(lines[i]) or lines[i].rstrip().endswith(":"):
        return False
    above = [x for x in lines[:i] if x.strip()]
    if not above or (_INTRODUCES.search(above[-1]) and not _EMOJI_CODE_END.search(above[-1])):
        return False  # "The new contact is:" above it: the card is the answer
    strong = 0
    seen = 0
    for k in range(i + 1, len(lines)):
        s = lines[k].strip()
        if not s:
            continue
        seen += 1
        if seen > 8 or not _sig_like(s, None):
            break
        if _CARD_CONTACT.search(s):
            strong += 1
            if strong >= 2:
                return True
    return False


_POSTSCRIPT = re.compile(r"^\s*p\.?\s?s\b", re.IGNORECASE)


def _signed_then_more(lines: list[str], i: int, from_name: str | None) -> bool:
    """A closing formula alone on its line ("All the best,") with a name as the next line: the
    sender signed off, and what follows (a footer, an ad, a notice) is not the answer, unless a
    "P.S." carries on writing."""
    if not _SIGN_OFF.match(lines[i]):
        return False
    rest = [x for x in lines[i + 1 :] if x.strip()]
    if not rest or not _signed_name(rest[0].strip().rstrip("."), from_name):
        return False
    return not any(_POSTSCRIPT.match(x) for x in rest[1:])


def _only_signature(lines: list[str], i: int, from_name: str | None) -> bool:
    """Whether the sender's text is a signature from its first line (``i``) on: a sign-off above
    the sender's name or contact lines ("Mit freundlichen Grüßen" / "Stefanie"), or the sender's
    own name above contact lines. Never a short answer: what follows must name or reach the sender
    ("Thanks" / "Lost" stays an answer)."""
    s = lines[i]
    if _is_sign_off(s, from_name):
        return _tail_is_signature(lines, i + 1, from_name) and _has_identity(lines, i + 1, from_name)
    if from_name and is_name_line(s, from_name):
        return _tail_is_signature(lines, i + 1, from_name) and any(_CONTACT.search(x) for x in lines[i + 1 :])
    return False


# "Thank you Rebecca", "Danke, Adam": thanking someone by name is what the message says
_THANKS_OPENING = re.compile(
    rf"^\s*(?:{_phrase_alt(lex.THANKS)}|thank you|vielen dank|muchas gracias)\b", re.IGNORECASE
)


def _named_sign_off_alone(line: str, from_name: str | None) -> bool:
    """A closing formula with a name as the sender's only line ("Gruß Anna", "Cheers, Tom"): a
    signature with nothing above it. A bare formula ("Thanks!") and a thank-you to someone
    ("Thank you Rebecca") stay: they are what the message says."""
    named = _SIGN_OFF_NAMED.match(line)
    return bool(
        named
        and not _AMBIGUOUS_SIGN_OFF.match(line)
        and not _THANKS_OPENING.match(line)
        and _signed_name(named.group(1), from_name)
        and not any(w.lower() in _SHORT_ANSWERS for w in named.group(1).split())
    )


def split_signature(text: str, from_name: str | None = None) -> tuple[str, str | None]:
    """(body, signature) of the sender's own text; signature None when none was found."""
    lines = text.split("\n")
    sig_parts: list[str] = []
    # 1. "-- " delimiter (the last one that leaves some text above it)
    # (a delimiter with only delimiters above it, "--\n-- \nAnna", is a signature from the first)
    for i, line in enumerate(lines):
        above = [x for x in lines[:i] if x.strip()]
        if (
            _SIG_DELIM.match(line.rstrip())
            and not above
            and _tail_is_signature(lines, i + 1, from_name)
            and _has_identity(lines, i + 1, from_name)
        ):  # "-- " first of all, a signature below it: the sender typed nothing of their own
            sig_parts.append("\n".join(lines[i + 1 :]).strip("\n"))
            lines = []
            break
        if _SIG_DELIM.match(line.rstrip()) and above:
            if all(_SIG_DELIM.match(x.rstrip()) for x in above):
                i = next(k for k, x in enumerate(lines) if x.strip())
            sig_parts.append("\n".join(lines[i + 1 :]).strip("\n"))
            lines = lines[:i]
            break
    # 2. a client footer ends what the sender typed: the client writes it below the text, so what
    # follows it is history the quote step did not recognise; one above the text is moved out
    content = [i for i, x in enumerate(lines) if x.strip()]
    for k in content:
        if _strict_footer(lines[k]):
            if k == content[0] and len(content) > 1:
                sig_parts.append(lines[k].strip())
                lines[k] = ""
                continue
            if k != content[0]:
                rest = "\n".join(lines[k:]).strip("\n")
                sig_parts.insert(0, rest)
                lines = lines[:k]
                break
    # mobile and app footers at the end
    _drop_trailing_footers(lines, sig_parts)
    # 3. trailing disclaimer paragraphs
    # 4. sign-off, or the sender's name, followed only by signature-like lines
    content = [i for i, x in enumerate(lines) if x.strip()]
    if len(content) == 1 and _named_sign_off_alone(lines[content[0]], from_name):
        sig_parts.insert(0, lines[content[0]].strip())
        lines, content = [], []
    if len(content) > 1:
        window = content[-(MAX_SIG_LINES + 12) :]
        cut = None
        for i in window:
            if i == content[0]:
                if _only_signature(lines, i, from_name):
                    cut = i
                    break
                continue
            s = lines[i]
            starts_par = not lines[i - 1].strip()
            last = i == content[-1]
            initials = (
                last and _INITIALS.match(s) and s.strip().replace(".", "").lower() not in _SHORT_ANSWERS
            )
            if (_is_sign_off(s, from_name) and not _in_list(lines, i)) or initials:
                nxt = next((k for k in content if k > i), None)
                if _THANKS.match(s) and nxt is not None and _SIGN_OFF.match(lines[nxt]):
                    continue  # "Obrigado." then "Cumprimentos,": the thanks is a sentence of the answer
                if _tail_is_signature(lines, i + 1, from_name) or _signed_then_more(lines, i, from_name):
                    cut = i
                    break
            elif (starts_par or _RULE.match(s)) and (
                (is_name_line(s, from_name) and _tail_is_signature(lines, i + 1, from_name))
                or (
                    _SOFT_DELIM.match(s)
                    and _tail_is_signature(lines, i + 1, from_name)
                    and _has_identity(lines, i + 1, from_name)
                )
                or (
                    _RULE.match(s)
                    and _tail_is_signature(lines, i + 1, from_name)
                    and _has_identity(lines, i + 1, from_name)
                )
                or (_DISCLAIMER.match(s) and _tail_is_signature(lines, i, from_name))
                or (starts_par and _card_at(lines, i))
            ):
                cut = i
                break
        if cut is not None:
            sig_parts.insert(0, "\n".join(lines[cut:]).strip("\n"))
            lines = lines[:cut]
            # a client footer between the text and the sign-off ("Get Outlook for iOS" / "Camille")
            _drop_trailing_footers(lines, sig_parts)
    body = "\n".join(lines).strip()
    signature = "\n".join(p for p in sig_parts if p.strip()).strip()
    return body, (signature or None)
