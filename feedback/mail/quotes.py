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
from collections.abc import Iterable
from dataclasses import dataclass

from feedback.mail import mail_words as lex
from feedback.mail.headers import ADDRESS_RE

MAX_LINE = 400
MAX_LINES = 5000


def _alt(words: Iterable[str]) -> str:
    """A regex alternation of literal words (a prefix tree, so longest first), with a word boundary
    before words that start with a letter of a spaced script (CJK runs have no boundaries)."""
    ws = set(words)
    bounded = {w for w in ws if w[:1].isalpha() and not _CJK.match(w)}
    parts = []
    if bounded:
        parts.append(rf"\b{lex.trie_pattern(bounded)}")
    if ws - bounded:
        parts.append(lex.trie_pattern(ws - bounded))
    return "(?:" + "|".join(parts) + ")" if parts else "(?!)"


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_MAILTO_RE = re.compile(r"(?<=[<\[])mailto:", re.IGNORECASE)

# --- attribution lines ("On <date>, <name> wrote:"), built from the lexicon ----------------------
# With a start word ("On", "Am", "Le", ...) any verb counts; without one only the verbs that are
# not everyday words, and the line needs an address, a date or a name-like prefix (the guards).
# Verbs such as "schrieb" may sit before the name ("... schrieb Anna <a@x>:"), the rest end the line.
_ALL_VERBS = [v for vs in lex.WROTE.values() for v in vs]
_START_WORDS = _alt(w for ws in lex.START.values() for w in ws)
# after the verb: a gender suffix ("napisał(a)", "napisao/la", "napisal/-a") and a parenthesis
# ("ezt írta (időpont: 2026. márc. 2., H, 9:14):", Gmail hu), then the colon
_VERB_TAIL = r"(?:\s?\(a\)|/-?\w{1,3})?(?:\s?\([^()\n]{0,100}\))?\s?-*\s?[:：]"
# a verb before the name or the date runs to the line's colon; colons inside a time ("09:14") do
# not end it ("Anna schrieb am 02.03.2026 um 09:14:", "Wiadomość napisana przez ... o godz. 09:14:")
_BEFORE_NAME = rf"{_alt(lex.WROTE_BEFORE_NAME)}(?![^\W\d_])(?:[^:：]|(?<=\d)[:：](?=\d)){{0,200}}[:：]"
_VERB_END = rf"(?:{_alt(_ALL_VERBS)}{_VERB_TAIL}|{_BEFORE_NAME})"
_BARE_VERBS = [v for v in _ALL_VERBS if v not in lex.WROTE_NEEDS_START]
_VERB_END_BARE = rf"(?:{_alt(_BARE_VERBS)}{_VERB_TAIL}|{_BEFORE_NAME})"
_ATTR_WITH_START = re.compile(rf"^\s*{_START_WORDS}(?![^\W\d_]).{{0,300}}?{_VERB_END}\s*$", re.IGNORECASE)
_STRICT_VERBS = [v for v in _ALL_VERBS if v not in lex.WROTE_NEEDS_START]
_ATTR_WITH_START_STRICT = re.compile(
    rf"^\s*{_START_WORDS}(?![^\W\d_]).{{0,300}}?{_VERB_END_BARE}\s*$",
    re.IGNORECASE,
)
# "On Mon, Mar 2, 2026 at 9:14 AM, Feedback <f@x> wrote" (no colon): a start word, a verb that is
# not an everyday word at the very end; it needs an address and a time (checked by the caller)
_ATTR_NO_COLON = re.compile(
    rf"^\s*{_START_WORDS}(?![^\W\d_]).{{0,300}}?{_alt(_STRICT_VERBS)}(?:\s?\(a\))?\s*$", re.IGNORECASE
)
# a verb that is an everyday word ("пише", "writes"), after a line that opens with a date
_ATTR_ANY_VERB = re.compile(rf"^.{{0,300}}?{_VERB_END}\s*$", re.IGNORECASE)
_ADDRESS_OR_TIME = re.compile(r"@|<|\b\d{1,2}:\d{2}\b")
_ATTR_BARE = re.compile(rf"^.{{0,300}}?{_VERB_END_BARE}\s*$", re.IGNORECASE)
# "2014-10-17 11:28 GMT+03:00 Bob <bob@example.com>:", "2011/4/7 Bob <bob@x.com>" and CJK forms:
# a date, then a name and an address, then nothing or a colon
_WEAK_ATTR_RE = re.compile(r"^\s*\S.{0,300}?(?:@[\w.-]{1,100}>?\)?\s?[:：]?|写道\s?[:：])\s*$")
_DATE_FIRST_RE = re.compile(r"^\s*(?:\d{1,4}[-./年]\d{1,2}[-./月]\d{1,4}|\d{4}년\s?\d{1,2}월)")
_TIME_RE = re.compile(r"\b\d{1,2}[:.]\d{2}\b")
# a line that ends with a bracketed address ("... John Smith <john@smith.org>", "...>:")
_ANGLE_ADDRESS_END_RE = re.compile(r"<(?:mailto:)?[^\s<>@]{1,64}@[^\s<>@]{1,255}>\s?[:：]?\s*$")
# "2016-03-03 17:21 GMT+01:00 Some One": Gmail's dated form with the zone, the address trimmed
_ZONED_STAMP_NAME_RE = re.compile(
    r"^\s*\d{4}-\d{1,2}-\d{1,2}\s+\d{1,2}:\d{2}(?::\d{2})?\s+(?:GMT|UTC)\s?[+-]\d{1,2}(?::?\d{2})?\s+"
    r"[^\W\d_][^:：]{0,80}[:：]?\s*$"
)
_MONTHS = _alt(lex.MONTHS)
# what an attribution line opens with: a start word, a date, or a weekday/month name and a digit
_ATTR_START_RE = re.compile(
    rf"^\s*(?:{_START_WORDS}(?![^\W\d_])|\d{{1,4}}[-./年]\d{{1,2}}|\d{{4}}년|\d{{4}}\.?\s+(?:[mg]\.\s+)?(?:{_MONTHS}\.?\s|\d{{1,2}}\.)|\d{{1,2}}\.?\s+{_MONTHS}\.?\s+\d{{2,4}}"
    rf"|{_alt(lex.WEEKDAYS)}\.?,?\s+\d"
    # "11:00 AM, November 17, 2021, ..." (a time first, then a date)
    rf"|\d{{1,2}}:\d{{2}}(?:\s?[ap]\.?m\.?)?,?\s+(?:{_MONTHS}|{_alt(lex.WEEKDAYS)}|\d{{1,4}}[-./]\d))",
    re.IGNORECASE,
)
# where a reply sentence ends and an attribution begins on the same line ("... bla--- On Wed ...")
_INLINE_START_RE = re.compile(rf"(?:(?<=[.!?)])\s+|(?<=\w)\s+|-{{2,}}\s*)(?={_START_WORDS}\b)")
_SENTENCE_GAP_RE = re.compile(r"(?<=[.!?])\s+(?=\S)")
# an address or a digit (a date, a time) makes a "<...> wrote:" line an attribution by itself
_STRONG_GUARD = re.compile(r"@|\d")
_ATTR_LOOSE_GUARD = re.compile(r"@|\d|^\s*\S+(?:\s+\S+){0,5}\s+\S+\s?:\s*$")

# --- separators -----------------------------------------------------------------------------------
_SEP_WORDS = _alt((*lex.ORIGINAL_MESSAGE, *lex.FORWARDED))
_SEPARATOR_RE = re.compile(
    rf"^\s*(?:[-_=*]{{2,}}\s*{_SEP_WORDS}\s*[-_=*]{{2,}}\s*|{_alt(lex.BEGIN_FORWARDED)}\s?[:：]?"
    rf"|[-_=*]{{2,}}\s*{_SEP_WORDS}\s?[:：]?\s*)$",
    re.IGNORECASE,
)
# "-----Reply Message-----", "---- John Smith wrote ----", "------On 12/29/1987 ... wrote-----":
# text between two dashed rules that names a message, or ends with a wrote-verb
_DASHED_RE = re.compile(
    rf"^\s*-{{2,}}\s?(?:[^-\n]{{0,60}}{_alt(lex.MESSAGE_WORDS)}[^-\n]{{0,20}}"
    rf"|.{{0,200}}?{_alt(_ALL_VERBS)}(?:\s?\(a\))?\s?:?)\s?-{{2,}}\s*$",
    re.IGNORECASE,
)
# "## Please type your reply above this line ##": everything below is the ticket's history
_REPLY_ABOVE_RE = re.compile(
    rf"^[\W_]{{0,10}}(?:please\s+|bitte\s+|merci de\s+|por favor,?\s+)?{_alt(lex.REPLY_ABOVE)}.{{0,40}}$",
    re.IGNORECASE,
)
_FORWARD_MARK_RE = re.compile(rf"{_alt((*lex.FORWARDED, *lex.BEGIN_FORWARDED))}", re.IGNORECASE)
_FORWARD_SUBJECT_RE = re.compile(
    r"^\s*[*>]{0,2}\s*\S{1,12}\s?[:：]\*{0,2}\s*(?:fwd?|wg|tr|rv|enc|vs|i|doorst|fw)\s?[:：]",
    re.IGNORECASE | re.MULTILINE,
)
# a separator with the first header line glued on ("-----Original Message-----From: ...")
_GLUED_SEPARATOR_RE = re.compile(rf"^\s*[-_=*]{{2,}}\s*{_SEP_WORDS}\s*[-_=*]{{2,}}\s*(\S.*)$", re.IGNORECASE)
_RULE_RE = re.compile(r"^\s*(?:_{5,}|-{5,}|={5,}|\*{5,})\s*$")

# --- header blocks (Outlook "From:/Sent:/To:/Subject:" in any order and language) ----------------
_HEADER_LABELS = lex.HEADER_LABELS
_LABEL_KIND = {label: kind for kind, labels in _HEADER_LABELS.items() for label in labels}
_HEADER_LINE_RE = re.compile(
    r"^\s*[*>]{0,2}\s*(" + lex.trie_pattern(_LABEL_KIND) + r")\s?(?::\*{0,2}(?:\s|$)|：)",
    re.IGNORECASE,
)

# "From: Anna Berg <anna@x>", "De: anna@x", "Von: Anna [mailto:anna@x]": a name and an address only
# ("No: write to bob@acme.com instead" is an answer, not a header)
_FROM_VALUE_RE = re.compile(
    r"^\s*[*>]{0,2}\s*[^\s:：]{1,20}(?:\s[^\s:：]{1,20})?\s?[:：]\**\s*"
    r"(?:\"?[^\"<>@\[\]:]{0,60}\"?\s?[<\[](?:mailto:)?[^\s<>@]{1,64}@[^\s<>@]{1,255}[>\]]|[^\s<>@]{1,64}@[^\s<>@]{1,255})\s*$",
    re.IGNORECASE,
)
# a label inside a line (the run-on header block): after a space, then the colon
_INLINE_LABEL_RE = re.compile(
    r"(?<=\s)(" + lex.trie_pattern(x for x in _LABEL_KIND if len(x) > 2) + r")\s?[:：](?=\s)",
    re.IGNORECASE,
)

_QUOTE_RE = re.compile(r"^[ \t]{0,3}>")
_BIDI_RE = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True, slots=True)
class Extracted:
    """The sender's own text and how it was found."""

    text: str
    layout: str  # top | bottom | inline | no_quote
    quote_found: bool
    empty_reason: str | None = None  # why ``text`` is empty although the body is not


def header_kind(line: str) -> str | None:
    """The header-block label kind a line starts with ("from", "date", ...), if any."""
    if len(line) > MAX_LINE:
        return None
    m = _HEADER_LINE_RE.match(line)
    return _LABEL_KIND.get(" ".join(m.group(1).lower().split())) if m else None


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
    # "Date: Wed, 16 May 2012 00:15:02 -0600 / To: bob@x": two labels, with a time or an address
    block = " ".join(lines[i:j])
    if len(distinct) == 2 and distinct & {"from", "date"} and "@" in block and _TIME_RE.search(block):
        return j - i
    return 0


def attribution_strength(line: str) -> int:
    """2: an attribution line; 1: only "<words> wrote:" (an attribution if a quote follows, else
    it may be the reply's own sentence: "As Tom wrote:"); 0: not one."""
    if len(line) > MAX_LINE:
        return 0
    # "<a@x<mailto:a@x>>", "[mailto:a@x]": the colon of "mailto:" is not the attribution's
    s = _MAILTO_RE.sub("", line.strip())
    if not s.endswith((":", "：")):
        # "On <date> <time>, Feedback <f@x> wrote" without its colon (a client that drops it)
        if "@" in s and _ATTR_NO_COLON.match(s) and _TIME_RE.search(s):  # the cheap test first
            return 2
        return 0
    if _ATTR_WITH_START.match(s):
        # a real attribution carries a date or an address; "On Monday I wrote to him:" may be the
        # reply's own sentence (an attribution only if a quote follows); "sent"/"said" need both
        if _ATTR_WITH_START_STRICT.match(s):
            return 2 if _STRONG_GUARD.search(s) else 1
        return 2 if _STRONG_GUARD.search(s) and _ADDRESS_OR_TIME.search(s) else 0
    if _ATTR_BARE.match(s):
        if _STRONG_GUARD.search(s) or _CJK.search(s):
            return 2
        if _ATTR_LOOSE_GUARD.search(s):
            return 1
    # "пн, 2 бер. 2026 р. о 09:14 Feedback <f@x> пише:": an everyday verb after a date, a time
    # and an address
    if _ATTR_START_RE.match(s) and "@" in s and _TIME_RE.search(s) and _ATTR_ANY_VERB.match(s):
        return 2
    return 0


def is_attribution(line: str) -> bool:
    """True for "On <date>, <name> wrote:" style lines in the supported languages."""
    return attribution_strength(line) > 0


def split_attribution(line: str, quoted_next: bool = False) -> tuple[str, str] | None:
    """(reply, attribution) when a line holds both: "Sounds good. On Wed, ... wrote:".

    A verbless "<date> <name> <address>:" counts only when ``quoted_next`` (a quote follows).

    The attribution part must open with a start word (or, after a sentence's end, a date or a
    weekday) and carry a date or an address, so a sentence that merely contains "on" is never split.
    """
    if len(line) > MAX_LINE:
        return None
    if not line.rstrip().endswith((":", "：")) and not ("@" in line and _VERB_AT_END_RE.search(line[-40:])):
        return None
    # a start word: the last one after a sentence end or a dashed join ("AA Vào. On 02/03 ...":
    # "Vào" is a word of the reply), else the first one before a time
    ended: tuple[str, str] | None = None
    timed: tuple[str, str] | None = None
    for m in _INLINE_START_RE.finditer(line):
        before, rest = line[: m.start()].rstrip(), line[m.end() :].strip()
        if not before.strip() or not _ATTR_START_RE.match(rest) or attribution_strength(rest) != 2:
            continue
        if not _has_own_words(before) and any(c.isdigit() for c in before):
            continue  # "في الاثنين، 2 مارس 2026 في 9:14 ...": a start word inside the attribution
        if re.match(rf"^{_START_WORDS}\.\s", rest, re.IGNORECASE):
            continue  # "AA Στις. Feedback <f@x> ezt írta ...": a start word ending a sentence of the reply
        if m.group(0).startswith("-") or before.rstrip().endswith((".", "!", "?", ")")):
            ended = (before, rest)
        elif timed is None and _TIME_RE.search(rest):
            timed = (before, rest)
    if ended or timed:
        return ended or timed
    # after a sentence, an attribution that opens with a date or a weekday ("... ma 2.3.2026 klo")
    for m in _SENTENCE_GAP_RE.finditer(line):
        before, rest = line[: m.start()].rstrip(), line[m.end() :].strip()
        if (
            # a year-first date ("2014-10-17 11:28 ...") opens an attribution by itself: whatever
            # stands before it is the reply, even a word that looks like a date ("DC.", "Mo.")
            (_has_own_words(before) or re.match(r"^\d{4}(?:[-./年]|\.?\s)", rest))
            and _ATTR_START_RE.match(rest)
            and (not _BARE_TIME_RE.match(rest) or _TIME_FIRST_RE.match(rest))
            and _STRONG_GUARD.search(rest)
            and (is_attribution(rest) or (quoted_next and _is_attr_text(rest)))
        ):
            return before, rest
    # the whole line is an attribution that opens with the name ("Done. Anna <a@x> ezt írta (...):",
    # "Ok. Anna schrieb am 02.03.2026 um 09:14:"): the text before the last sentence end is the
    # reply (a gap after an initial or a date word, "J. Smith", "márc. 2.", is not a sentence end)
    if attribution_strength(line) == 2:
        gaps = list(_SENTENCE_GAP_RE.finditer(line))
        for m in reversed(gaps):
            before, rest = line[: m.start()].rstrip(), line[m.end() :].strip()
            last = re.findall(r"\w+", before)[-1:] or [""]
            if (
                _has_own_words(last[0])
                and len(last[0]) > 1
                and _has_own_words(before)
                and attribution_strength(rest) == 2
            ):
                return before, rest
        # a reply of date-like words only ("Mai.", "Mo."): without a digit it is not a date
        for m in gaps:
            before, rest = line[: m.start()].rstrip(), line[m.end() :].strip()
            if (
                not any(c.isdigit() for c in before)
                # "Le lun. 2 mars ...", "man. 2. mar.", "On Mon. Mar 2": the date goes on
                and not rest[:1].isdigit()
                and _has_own_words(re.split(r"\W", rest, maxsplit=1)[0])
                and attribution_strength(rest) == 2
            ):
                return before, rest
    return None


_DATE_WORDS = frozenset(
    w.lower()
    for w in (*lex.WEEKDAYS, *lex.MONTHS, *lex.DATE_GLUE, *(x for ws in lex.START.values() for x in ws))
)
_BARE_TIME_RE = re.compile(r"^\d{1,2}[:.]\d{2}\b(?![-./]\d)")
_TIME_FIRST_RE = re.compile(
    rf"^\d{{1,2}}:\d{{2}}(?:\s?[ap]\.?m\.?)?,?\s+(?:{_MONTHS}|{_alt(lex.WEEKDAYS)})", re.IGNORECASE
)
# a line that ends with a wrote-verb and no colon ("... Feedback <f@x> wrote")
_VERB_AT_END_RE = re.compile(rf"{_alt(_STRICT_VERBS)}\s*$", re.IGNORECASE)


def _has_own_words(text: str) -> bool:
    """Whether ``text`` has a word that is not a start word, weekday, month or number: "Le lun."
    and "man. 2." open an attribution, they are not a reply before one."""
    return any(t.lower() not in _DATE_WORDS and not t.isdigit() for t in re.findall(r"\w+", text))


def _is_attr_text(text: str) -> bool:
    """An attribution, or a dated "<date> <name> <address>:" line (Gmail's older form)."""
    if is_attribution(text):
        return True
    # without a colon only the date-first form ("2011/4/7 Bob <bob@x>") counts
    opens = _DATE_FIRST_RE.match(text) or (_ATTR_START_RE.match(text) and text.rstrip().endswith((":", "：")))
    if _WEAK_ATTR_RE.match(text) and _DATE_FIRST_RE.match(text) and _ANGLE_ADDRESS_END_RE.search(text):
        return True  # "2013/11/1 John Smith <john@smith.org>" (Gmail's older form has no time)
    return bool(_WEAK_ATTR_RE.match(text) and opens and _TIME_RE.search(text))


def _attribution_span(lines: list[str], i: int) -> int:
    """How many lines an attribution starting at line ``i`` spans (0 if none).

    Clients wrap long attributions over up to four lines, at the address ("<" / "mailto:"), before
    "wrote:", even with blank lines between (Polymail). Lines are joined only when the first opens
    like an attribution (a start word, a date, a weekday with a day number) and carries a digit,
    and the next is not an attribution of its own: a reply line directly above the attribution is
    the reply, never part of it.
    """
    line = lines[i]
    if _QUOTE_RE.match(line) or not line.strip():
        return 0
    if is_attribution(line):
        return 1
    if i + 1 >= len(lines):
        return 0
    nxt = lines[i + 1]
    wrapped_at_address = line.rstrip().endswith("<") or nxt.lstrip().startswith("<")
    opens = (
        (_ATTR_START_RE.match(line) and _STRONG_GUARD.search(line))
        or (wrapped_at_address and _STRONG_GUARD.search(line))
        # the name first, its address and the verb, the date wrapped onto the next line
        # ("Max <m@x> schrieb am Fr., 28." / "Apr. 2017 um 11:53 Uhr:")
        or (ADDRESS_RE.search(line) and _ANY_VERB_RE.search(line))
    )
    if not opens:
        return 0
    joined = line.rstrip()
    tight = line.rstrip()  # joined without spaces: "<\nfeedback@x> wrote:" wraps inside the address
    for j in range(i + 1, min(i + 6, len(lines))):
        part = lines[j].strip()
        glued = False
        if _QUOTE_RE.match(lines[j]):
            part = lines[j].lstrip()[1:].strip()  # "> wrote:" (Polymail quotes the verb's line)
            if part in (":", "：") and "@" in joined:
                part, glued = ">" + part, True  # "... <feedback@x.example" / ">:" (Gmail wraps there)
            elif not re.match(rf"^{_VERB_END}\s*$", part, re.IGNORECASE):
                return 0
        elif not part:
            continue
        elif (_ATTR_START_RE.match(part) and is_attribution(part)) or header_kind(part) is not None:
            return 0
        if glued:
            joined = f"{joined}{part}"
        else:
            joined = f"{joined[:-1]}{part}" if joined.endswith("=") else f"{joined} {part}"
        # "...<\nfeedback@x> wrote:" wraps inside the address; "w=\nrote:" is an undecoded soft break
        tight = f"{tight}{part}" if tight.endswith("<") else joined
        if len(joined) > MAX_LINE:
            return 0
        if _is_attr_text(joined) or _is_attr_text(tight):
            return j - i + 1
        if _QUOTE_RE.match(lines[j]):
            return 0
    return 0


def _split_wrapped_attribution(lines: list[str], i: int) -> tuple[str, str] | None:
    """(reply, first attribution line) when line ``i`` holds the reply and the start of an
    attribution the client wrapped onto the next lines ("Not a fit. On Wed, Dec 2, 2026 at 5:09 AM
    Feedback" / "<f@x> wrote:"): read from its start word on, the lines make one attribution; what
    stands before the start word, after a sentence's end (or with a time after it), is the reply."""
    line = lines[i]
    if len(line) > MAX_LINE or i + 1 >= len(lines):
        return None
    for m in _INLINE_START_RE.finditer(line):
        before, rest = line[: m.start()].rstrip(), line[m.end() :].strip()
        if not before.strip() or not _has_own_words(before) or not _ATTR_START_RE.match(rest):
            continue
        if not (m.group(0).startswith("-") or before.endswith((".", "!", "?", ")")) or _TIME_RE.search(rest)):
            continue
        if _attribution_span([rest, *lines[i + 1 : i + 6]], 0) >= 2:
            return before, rest
    return None


_STAMP_RE = re.compile(
    rf"^(?=.{{0,80}}$)(?=.*\b\d{{1,2}}[:.]\d{{2}}\b)(?=.*(?:{_MONTHS}|\d{{1,4}}[-./]\d{{1,2}}[-./]\d{{1,4}}))"
    r"[^.!?]*$",
    re.IGNORECASE,
)


def _newest_comment(lines: list[str], j: int) -> list[str]:
    """The first comment of a helpdesk thread starting at line ``j``: up to the next rule or
    marker, without its heading (the author's line and a date-and-time stamp among the first
    three lines)."""
    block: list[str] = []
    for k in range(j, len(lines)):
        if _RULE_RE.match(lines[k]) or _QUOTE_RE.match(lines[k]) or _marker_at(lines, k)[0]:
            break
        block.append(lines[k])
    content = [k for k, x in enumerate(block) if x.strip()]
    for k in content[:3]:
        if _STAMP_RE.match(block[k].strip()):
            block = block[k + 1 :]
            break
    return block if any(x.strip() for x in block) else []


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
    if (
        _WEAK_ATTR_RE.match(line)
        and any(ch.isdigit() for ch in line)
        and (line.rstrip().endswith((":", "：")) or _DATE_FIRST_RE.match(line))
    ):
        nxt = _next_content(lines, i + 1)
        if nxt < len(lines) and _QUOTE_RE.match(lines[nxt]):
            return 1, False
        # a line opening with a date, with a time before "<addr>:", or with a bracketed address at
        # its end ("2013/7/20 sam via Discourse Meta <info@discourse.org>"), is an attribution on
        # its own
        if _TIME_RE.search(line) and (_DATE_FIRST_RE.match(line) or _ATTR_START_RE.match(line)):
            return 1, True
        if _DATE_FIRST_RE.match(line) and _ANGLE_ADDRESS_END_RE.search(line):
            return 1, True
    if _ZONED_STAMP_NAME_RE.match(line):
        return 1, True
    if line.rstrip().endswith((":", "：")) and ADDRESS_RE.search(line) and _TIME_RE.search(line):
        # "* Anna <a@x> [2026-03-02 09:14 +0100]:" (mutt and other configurable attributions):
        # an address and a time ending in a colon, right above a quote
        nxt = _next_content(lines, i + 1)
        if nxt < len(lines) and nxt - i <= 2 and _QUOTE_RE.match(lines[nxt]):
            return 1, False
    if _SEPARATOR_RE.match(line) or _DASHED_RE.match(line) or _REPLY_ABOVE_RE.match(line):
        return 1, True
    dashed = _DASHED_TEXT_RE.match(line)
    if (
        dashed
        and ADDRESS_RE.search(dashed.group(1))
        and _TIME_RE.search(dashed.group(1))
        and _ANY_VERB_RE.search(dashed.group(1))
    ):
        return 1, True  # "---- Am Do, 19 Nov 2026 17:58 schrieb Anna <a@x> ----" (Zoho)
    glued = _GLUED_SEPARATOR_RE.match(line)
    if glued and header_kind(glued.group(1)) is not None:
        return 1, True  # "-----Ursprüngliche Nachricht-----Von: Anna <a@x>" (the header glued on)
    if _run_on_header(line):
        return 1, True  # "Temat: Lead Nadawca: Anna <a@x> Adresat: Dana <d@x> Data: 2026-03-02 09:14"
    if _RULE_RE.match(line):
        nxt = _next_content(lines, i + 1)
        if nxt < len(lines) and nxt - i <= 3 and header_block_at(lines, nxt):
            return 1, True
        return 0, False
    if header_kind(line) is not None and header_block_at(lines, i):
        return header_block_at(lines, i), True
    # a lone "From: Anna <a@x>" line (a client that writes no other header) right above a quote
    if header_kind(line) == "from" and _FROM_VALUE_RE.match(line):
        nxt = _next_content(lines, i + 1)
        if nxt < len(lines) and nxt - i <= 2 and _QUOTE_RE.match(lines[nxt]):
            return 1, False
    return 0, False


def _names_a_sender(line: str) -> bool:
    """Whether a marker line is an attribution ("On ... wrote:", "2026/3/2 Anna <a@x>"), not a
    separator, a rule, a header block or a helpdesk line: only an attribution may stand above a
    reply whose quote was dropped; below the others is a forwarded or quoted message."""
    return not (
        header_kind(line) is not None
        or line.lstrip().startswith(("-", "_", "=", "*", "#"))
        or _SEPARATOR_RE.match(line)
        or _REPLY_ABOVE_RE.match(line)
    )


_DASHED_TEXT_RE = re.compile(r"^\s*-{2,}\s*(\S.{0,300}?)\s*-{2,}\s*$")
_ANY_VERB_RE = re.compile(rf"(?<!\w){_alt(_ALL_VERBS)}(?!\w)", re.IGNORECASE)


def _run_on_header(line: str) -> bool:
    """A header block printed on one line: three labels of distinct kinds, one of them "from" or
    "date", with an address ("Temat: X Nadawca: Anna <a@x> Adresat: Dana <d@x>")."""
    if "@" not in line or header_kind(line) is None:
        return False
    kinds = {_LABEL_KIND.get(" ".join(m.group(1).lower().split())) for m in _INLINE_LABEL_RE.finditer(line)}
    kinds.add(header_kind(line))
    return len(kinds) >= 3 and bool(kinds & {"from", "date"})


def extract_reply(text: str) -> Extracted:
    """The sender's own lines of a plain-text body, quoted history removed."""
    # bidi marks (Gmail wraps names and addresses of he/ar attributions in them) are invisible
    lines = _BIDI_RE.sub("", text).split("\n")[:MAX_LINES]
    own: list[tuple[int, str]] = []  # (fragment number, line)
    fragment = 0
    quote_found = False
    seen_quote_before_text = False
    forwarded = False
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if _QUOTE_RE.match(line) or _quote_continuation(lines, i):
            quote_found = True
            if not own:
                seen_quote_before_text = True
            if own and own[-1][0] == fragment:
                fragment += 1
            i += 1
            continue
        nxt = _next_content(lines, i + 1)
        quoted_next = nxt < n and bool(_QUOTE_RE.match(lines[nxt]))
        split = split_attribution(line, quoted_next) if not _QUOTE_RE.match(line) else None
        if split is None and not _QUOTE_RE.match(line):
            split = _split_wrapped_attribution(lines, i)
        if split is not None:  # "Sounds good. On Wed, ... wrote:": the reply, then the marker
            own.append((fragment, split[0]))
            lines[i] = split[1]
        span, unquoted = _marker_at(lines, i)
        # a header block first of all: the message's own printed headers (text follows), unless
        # its subject says it is a forward
        if (
            span
            and unquoted
            and not own
            and not quote_found
            and header_kind(line) is not None
            and not _FORWARD_SUBJECT_RE.search("\n".join(lines[i : i + span]))
        ):
            i += span
            continue
        if (
            span
            and unquoted
            and not own
            and not quote_found
            and _names_a_sender(line)
            and _next_content(lines, i + span) < n
        ):
            # an attribution first of all with unquoted text below it: the client (or a list that
            # re-sends the mail) put the sender's reply under it and dropped the quote; the text
            # below is the reply, and a later marker still ends it
            quote_found = seen_quote_before_text = True
            i += span
            continue
        if span and not own and not quote_found and _REPLY_ABOVE_RE.match(line):
            # a helpdesk's "reply above this line" first of all: the mail is the ticket's thread,
            # newest comment first, and that comment (below its author and time) is the sender's
            newest = _newest_comment(lines, i + span)
            if newest:
                own.extend((fragment, x) for x in newest)
                quote_found = True
                break
        if span:
            quote_found = True
            if unquoted:
                forwarded = bool(
                    _FORWARD_MARK_RE.search(line)
                    or _FORWARD_SUBJECT_RE.search("\n".join(lines[i : i + span + 6]))
                )
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
    reason = None
    if not parts and quote_found:
        reason = (
            "forward only: the message forwards another one and adds no text of its own"
            if forwarded
            else "quote only: no text of the sender's own above, beside or below the quoted message"
        )
    return Extracted(
        text=joiner.join(p.strip() for p in parts),
        layout=layout,
        quote_found=quote_found,
        empty_reason=reason,
    )


def _quote_continuation(lines: list[str], i: int) -> bool:
    """An unquoted line that belongs to the quote around it: the rest of a quoted line broken at
    an undecoded quoted-printable soft break ("...w=" / "rote:"), or a wrapped link piece such as
    "(http://x.example/c) >" squeezed between two quoted lines."""
    line = lines[i]
    if not line.strip() or i == 0 or not _QUOTE_RE.match(lines[i - 1]):
        return False
    if lines[i - 1].rstrip().endswith("=") and len(line.strip()) < 80:
        return True
    piece = line.strip()
    link_piece = piece[0] in "(<[_" or piece.endswith(">")
    return link_piece and i + 1 < len(lines) and bool(_QUOTE_RE.match(lines[i + 1]))
