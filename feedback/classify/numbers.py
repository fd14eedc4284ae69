"""Quick-reply option numbers ("3", "#3", "option 3", "3 - student", "3 and 7").

Requests number the kind's reasons 1..n; a rep may answer with the number. Replies are full of
other numbers (times, dates, money, counts, quarters), so a number is read as an option only where
an answer stands: "#3" or "option 3" anywhere, or a bare number that opens a line (after at most
two words and a dash or colon: "Rejected - 9"), or that continues such a list ("3 and 7", "3, 7").
A bare number glued to anything ("2pm", "14th", "3/4", "$40k", "20%", "Q3") or followed by a word
("3 users", "2 weeks") is not an option.
"""

from __future__ import annotations

import re

_OPTION_WORDS = frozenset(
    {
        "option",
        "options",
        "opt",
        "opt.",
        "no.",
        "nr",
        "nr.",
        "number",
        "nummer",
        "num",
        "numero",
        "número",
        "numéro",
        "n°",
        "choice",
        "reason",
    }
)
_JOINERS = frozenset({"and", "und", "et", "y", "e", "or", "oder", "ou", "o", "&", "+", ",", "/", "plus"})
_BULLETS = frozenset({"-", "*", "•", "–", "—", ">"})
_DASHES = frozenset({"-", "–", "—", ":", "=", "->", "=>"})
_BARE = re.compile(r"#?(\d{1,2})[.,;:)!]*")
_DIGIT = re.compile(r"\d")
_STRIP = ".,;:!?)("


def option_numbers(text: str, max_option: int) -> list[int]:
    """Option numbers stated in ``text``, in order, without repeats; only 1..max_option."""
    out: list[int] = []
    if not _DIGIT.search(text):
        return out
    for line in text.splitlines():
        if not _DIGIT.search(line):  # every option is a number: a line without a digit has none
            continue
        tokens = [part for tok in line.split() for part in _split_list(tok, max_option)]
        if len(tokens) > 1 and all(_only_option(t, max_option) for t in tokens):
            tokens = [t if t.endswith(",") else t + "," for t in tokens[:-1]] + tokens[-1:]  # "2 3"
        accepted_at = -2  # index of the last accepted number in this line
        words_before = 0
        for i, tok in enumerate(tokens):
            low = tok.lower()
            m = _BARE.fullmatch(tok)
            ok = False
            if m:
                explicit = tok.startswith("#") or (
                    i > 0 and tokens[i - 1].lower().strip(":([") in _OPTION_WORDS
                )
                if explicit:
                    ok = True
                else:
                    prev = tokens[i - 1].lower() if i else ""
                    if (
                        i == 0
                        or (words_before == 0 and prev in _BULLETS)
                        or (accepted_at == i - 1 and tokens[i - 1].endswith(","))
                        or (accepted_at == i - 2 and prev in _JOINERS)
                        or (0 < words_before <= 2 and (prev in _DASHES or prev.endswith((":", ","))))
                    ):
                        ok = _free_after(tokens, i, tok[-1])
                if ok:
                    number = int(m.group(1))
                    if 1 <= number <= max_option and number not in out:
                        out.append(number)
                    accepted_at = i
                    continue
            if low.strip(_STRIP) and low not in _BULLETS and low not in _DASHES:
                words_before += 1
    return out


_NUMBER_LIST = re.compile(r"\d{1,2}(?:,\d{1,2})+,?")


def _only_option(tok: str, max_option: int) -> bool:
    m = _BARE.fullmatch(tok.rstrip(","))
    return m is not None and not tok.startswith("#") and 1 <= int(m.group(1)) <= max_option


def _split_list(tok: str, max_option: int) -> list[str]:
    """ "7,9" as "7," "9": a list typed without spaces, when every part is an option number (so
    "1,500" and a decimal "1,50" stay one token)."""
    if not _NUMBER_LIST.fullmatch(tok):
        return [tok]
    parts = [p for p in tok.split(",") if p]
    if not all(1 <= int(p) <= max_option for p in parts):
        return [tok]
    return [p + "," for p in parts[:-1]] + [parts[-1] + ("," if tok.endswith(",") else "")]


def _free_after(tokens: list[str], i: int, last: str) -> bool:
    """A bare number is an answer only if no counted noun follows it ("3 users", "2 weeks")."""
    if i + 1 >= len(tokens):
        return True
    if last in ".)":  # "1. Our champion left": a list enumerator, not an answer
        return False
    if last in ",;:!":
        return True
    nxt = tokens[i + 1].lower()
    if nxt in _DASHES or nxt in _JOINERS or nxt in _BULLETS:
        return True
    return not nxt[:1].isalnum()
