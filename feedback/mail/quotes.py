"""Quoted-history removal for plain text: line classification, then a cut or a filter.

Every line is classified once: ``>``-quoted, blank, a *marker* (attribution line such as
"On ... wrote:", an "Original Message"/"Forwarded message" separator, a ``____`` rule before a
header block, or the first line of a From/Sent/To/Subject header block in any order and language)
or the sender's own text. Then:

* a marker that is *not* followed by ``>`` lines starts an unquoted history (Outlook, forwards):
  everything from it on is cut;
* otherwise the ``>`` lines and their attribution are dropped and the sender's own lines are kept
  in order, which handles top-posting, bottom-posting and inline answers with one rule.

All patterns are anchored, use bounded repetition and only run on lines of at most
``MAX_LINE`` characters, so the cost is linear in the input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_LINE = 400
MAX_LINES = 5000

# --- attribution lines ("On <date>, <name> wrote:"), per language --------------------------------
# Each entry: (start pattern, end pattern). A line (or two joined lines: Gmail wraps long ones)
# is an attribution when it matches start ... end with at most 300 characters in between.
_ATTR_PARTS: tuple[tuple[str, str], ...] = (
    (r"On\b", r"\b(?:wrote|writes|said)\s?:"),  # en
    (r"Am\b", r"\bschrieb\b[^:]{0,200}:"),  # de
    (r"", r"\bschrieb\b[^:]{0,200}:"),  # de, Outlook for Mac "X schrieb:"
    (r"Le\b", r"\ba\s+[ée]crit\s?:"),  # fr
    (r"El\b", r"\bescribi[óo]\s?:"),  # es
    (r"Il\b", r"\bha\s+scritto\s?:"),  # it
    (r"Op\b", r"\bschreef\b[^:]{0,200}:"),  # nl
    (r"Em\b", r"\bescreveu\s?:"),  # pt
    (r"W\s+dniu\b", r"\b(?:pisze|napisał\(a\)|napisał|napisała)\s?:"),  # pl
    (r"(?:Den|På)\b", r"\bskrev\b[^:]{0,200}:"),  # sv/da/no
    (r"", r"\bkirjoitti\b.{0,200}:"),  # fi: "X kirjoitti 4.3.2024 klo 10.05:"
    # "<date> <name> <addr> wrote:" without the leading word (Gmail in sv/da/no/pl, Outlook for Mac)
    (
        r"",
        r"\b(?:wrote|a écrit|escribió|ha scritto|escreveu|skrev|schreef|pisze|napisał\(a\)|napisał|"
        r"написал\(а\)|написала|написал|napsal\(a\)|napsal|írta|yazdı)"
        r"[^:]{0,200}:",
    ),
)
_ATTR_RES = tuple(
    re.compile(rf"^\s*{start}.{{0,300}}?{end}\s*$" if start else rf"^.{{0,300}}?{end}\s*$", re.IGNORECASE)
    for start, end in _ATTR_PARTS
)
# the unanchored-start patterns need an address, a date or a name-like prefix to count
# "2014-10-17 11:28 GMT+03:00 Bob <bob@example.com>:" and CJK forms: only before ">" lines
_WEAK_ATTR_RE = re.compile(r"^\s*\S.{0,300}?(?:@[\w.-]{1,100}>?\)?\s?[:：]|写道\s?[:：])\s*$")
_TIME_RE = re.compile(r"\b\d{1,2}[:.]\d{2}\b")
# what an attribution line opens with: a start word of one of the languages above, or a date
_START_WORDS = r"(?:On|Am|Le|El|Il|Op|Em|W\s+dniu|Den|På|Dne|В|Il giorno)"
_ATTR_START_RE = re.compile(
    rf"^\s*(?:{_START_WORDS}\b|\d{{1,4}}[-./]\d{{1,2}}|\d{{1,2}}\s+\w+\.?\s+\d{{2,4}})"
)
# where a reply sentence ends and an attribution begins on the same line
_INLINE_START_RE = re.compile(rf"(?<=[.!?)])\s+(?={_START_WORDS}\b)")
# an address or a digit (a date, a time) makes a "<...> wrote:" line an attribution by itself
_STRONG_GUARD = re.compile(r"@|\d")
_ATTR_LOOSE_GUARD = re.compile(r"@|\d|^\s*\S+(?:\s+\S+){0,5}\s+\S+\s?:\s*$")

# --- separators -----------------------------------------------------------------------------------
_SEPARATOR_RE = re.compile(
    r"^\s*(?:"
    r"-{2,}\s*(?:original message|urspr[üu]ngliche nachricht|message d'origine|mensaje original|"
    r"messaggio originale|oorspronkelijk bericht|mensagem original|wiadomo[śs][ćc] oryginalna|"
    r"originalmeddelande|oprindelig meddelelse|opprinnelig melding|alkuper[äa]inen viesti|"
    r"forwarded message|weitergeleitete nachricht|message transf[ée]r[ée]|mensaje reenviado|"
    r"messaggio inoltrato|doorgestuurd bericht|mensagem encaminhada|wiadomo[śs][ćc] przekazana|"
    r"vidarebefordrat meddelande|videresendt meddelelse|videresendt melding|v[äa]litetty viesti"
    r")\s*-{2,}\s*"
    r"|begin forwarded message\s?:|anfang der weitergeleiteten nachricht\s?:|"
    r"d[ée]but du message r[ée]exp[ée]di[ée]\s?:|inicio del mensaje reenviado\s?:|"
    r"inizio messaggio inoltrato\s?:|begin doorgestuurd bericht\s?:|"
    r"in[íi]cio da mensagem reencaminhada\s?:"
    r")$",
    re.IGNORECASE,
)
_RULE_RE = re.compile(r"^\s*_{10,}\s*$")

# --- header blocks (Outlook "From:/Sent:/To:/Subject:" in any order and language) ----------------
_HEADER_LABELS: dict[str, tuple[str, ...]] = {
    "from": ("from", "von", "de", "da", "van", "od", "från", "fra", "lähettäjä", "feladó", "от"),
    "date": (
        "sent",
        "date",
        "gesendet",
        "datum",
        "envoyé",
        "enviado",
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
    ),
    "to": ("to", "an", "à", "a", "para", "aan", "do", "till", "til", "vastaanottaja", "címzett", "кому"),
    "cc": ("cc", "kopie", "cci", "bcc", "kopia", "kopio", "копия"),
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
    ),
}
_LABEL_KIND = {label: kind for kind, labels in _HEADER_LABELS.items() for label in labels}
_HEADER_LINE_RE = re.compile(
    r"^\s*[*>]{0,2}\s*("
    + "|".join(sorted((re.escape(x) for x in _LABEL_KIND), key=len, reverse=True))
    + r")\s?:\*{0,2}(?:\s|$)",
    re.IGNORECASE,
)

_QUOTE_RE = re.compile(r"^[ \t]{0,3}>")


@dataclass(frozen=True, slots=True)
class Extracted:
    """The sender's own text and how it was found."""

    text: str
    layout: str  # top | bottom | inline | no_quote
    quote_found: bool


def header_kind(line: str) -> str | None:
    """The header-block label kind a line starts with ("from", "date", ...), if any."""
    if len(line) > MAX_LINE:
        return None
    m = _HEADER_LINE_RE.match(line)
    return _LABEL_KIND.get(m.group(1).lower()) if m else None


def header_block_at(lines: list[str], i: int) -> int:
    """Length of an e-mail header block starting at line ``i`` (0 if none).

    A block is at least three header lines of distinct kinds including "from" or "date"
    (or two when they are "from" and "date"), allowing one wrapped continuation line each.
    """
    kinds: list[str] = []
    j, n = i, len(lines)
    gap = 0
    while j < n and len(kinds) < 8:
        kind = header_kind(lines[j])
        if kind is not None:
            kinds.append(kind)
            gap = 0
        elif kinds and lines[j].strip() and gap == 0 and j + 1 < n and header_kind(lines[j + 1]):
            gap = 1  # a wrapped To:/Cc: list
        else:
            break
        j += 1
    if not kinds or header_kind(lines[i]) is None:
        return 0
    distinct = set(kinds)
    if len(distinct) >= 3 and distinct & {"from", "date"}:
        return j - i
    if {"from", "date"} <= distinct:
        return j - i
    return 0


def attribution_strength(line: str) -> int:
    """2: an attribution line; 1: only "<words> wrote:" (an attribution if a quote follows, else
    it may be the reply's own sentence: "As Tom wrote:"); 0: not one."""
    if len(line) > MAX_LINE or ":" not in line:
        return 0
    s = line.strip()
    if not s.endswith(":"):
        return 0
    weak = False
    for start, rx in zip(_ATTR_PARTS, _ATTR_RES, strict=True):
        if not rx.match(s):
            continue
        if start[0] or _STRONG_GUARD.search(s):
            return 2
        if _ATTR_LOOSE_GUARD.search(s):
            weak = True
    return 1 if weak else 0


def is_attribution(line: str) -> bool:
    """True for "On <date>, <name> wrote:" style lines in the supported languages."""
    return attribution_strength(line) > 0


def split_attribution(line: str) -> tuple[str, str] | None:
    """(reply, attribution) when a line holds both: "Sounds good. On Wed, ... wrote:"."""
    if len(line) > MAX_LINE or not line.rstrip().endswith(":"):
        return None
    for m in _INLINE_START_RE.finditer(line):
        before, rest = line[: m.start()].rstrip(), line[m.start() :].strip()
        if before.strip() and attribution_strength(rest) == 2 and _ATTR_START_RE.match(rest):
            return before, rest
    return None


def _attribution_span(lines: list[str], i: int) -> int:
    """1 or 2 if an attribution starts at line ``i`` (Gmail wraps it over two lines), else 0.

    Two lines are joined only when the first opens like an attribution (a start word such as
    "On"/"Am"/"Le", or a date) and the second is not an attribution of its own: a reply line
    directly above the attribution is the reply, never part of the attribution.
    """
    line = lines[i]
    if _QUOTE_RE.match(line) or not line.strip():
        return 0
    if is_attribution(line):
        return 1
    if i + 1 < len(lines) and lines[i + 1].strip() and not _QUOTE_RE.match(lines[i + 1]):
        nxt = lines[i + 1]
        wrapped_at_address = line.rstrip().endswith("<") or nxt.lstrip().startswith("<")
        opens = _ATTR_START_RE.match(line) or (wrapped_at_address and _STRONG_GUARD.search(line))
        if not opens or (_ATTR_START_RE.match(nxt) and is_attribution(nxt)):
            return 0
        joined = line.rstrip() + " " + lines[i + 1].strip()
        if len(line) <= MAX_LINE and is_attribution(joined):
            return 2
        # "... <\nfeedback@x> wrote:" wraps inside the address: join without a space too
        if line.rstrip().endswith("<") and is_attribution(line.rstrip() + lines[i + 1].strip()):
            return 2
    return 0


def _next_content(lines: list[str], j: int) -> int:
    """Index of the next non-blank line at or after ``j`` (len(lines) if none)."""
    while j < len(lines) and not lines[j].strip():
        j += 1
    return j


def _marker_at(lines: list[str], i: int) -> tuple[int, bool]:
    """(span, unquoted_history) for a marker at line ``i``; span 0 when there is none.

    ``unquoted_history`` means the history after the marker is not ``>``-quoted, so everything
    from the marker on is history.
    """
    line = lines[i]
    if len(line) > MAX_LINE or _QUOTE_RE.match(line):
        return 0, False
    span = _attribution_span(lines, i)
    if span:
        nxt = _next_content(lines, i + span)
        quoted_next = nxt < len(lines) and bool(_QUOTE_RE.match(lines[nxt]))
        if span == 1 and attribution_strength(line) == 1 and not quoted_next:
            return 0, False  # "As Tom wrote:" in the reply itself: no quote follows it
        return span, not quoted_next
    if len(line) <= MAX_LINE and _WEAK_ATTR_RE.match(line) and any(ch.isdigit() for ch in line):
        nxt = _next_content(lines, i + 1)
        if nxt < len(lines) and _QUOTE_RE.match(lines[nxt]):
            return 1, False
        if _TIME_RE.search(line):  # a date and time before "<addr>:" is an attribution on its own
            return 1, True
    if _SEPARATOR_RE.match(line):
        return 1, True
    if _RULE_RE.match(line):
        nxt = _next_content(lines, i + 1)
        if nxt < len(lines) and nxt - i <= 3 and header_block_at(lines, nxt):
            return 1, True
        return 0, False
    if header_kind(line) is not None and header_block_at(lines, i):
        return header_block_at(lines, i), True
    return 0, False


def extract_reply(text: str) -> Extracted:
    """The sender's own lines of a plain-text body, quoted history removed."""
    lines = text.split("\n")[:MAX_LINES]
    own: list[tuple[int, str]] = []  # (fragment number, line)
    fragment = 0
    quote_found = False
    seen_quote_before_text = False
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if _QUOTE_RE.match(line):
            quote_found = True
            if not own:
                seen_quote_before_text = True
            if own and own[-1][0] == fragment:
                fragment += 1
            i += 1
            continue
        split = split_attribution(line) if not _QUOTE_RE.match(line) else None
        if split is not None:  # "Sounds good. On Wed, ... wrote:": the reply, then the marker
            own.append((fragment, split[0]))
            lines[i] = split[1]
        span, unquoted = _marker_at(lines, i)
        if span:
            quote_found = True
            if unquoted:
                break
            if own and own[-1][0] == fragment:
                fragment += 1
            i += span
            continue
        if line.strip() or own:
            own.append((fragment, line))
        i += 1
    fragments: dict[int, list[str]] = {}
    for frag, line in own:
        fragments.setdefault(frag, []).append(line)
    parts = ["\n".join(f).strip("\n") for f in fragments.values()]
    parts = [p for p in parts if p.strip()]
    if not quote_found:
        layout = "no_quote"
    elif len(parts) > 1:
        layout = "inline"
    elif seen_quote_before_text:
        layout = "bottom"
    else:
        layout = "top"
    joiner = "\n" if layout == "inline" else "\n\n"
    return Extracted(text=joiner.join(p.strip() for p in parts), layout=layout, quote_found=quote_found)
