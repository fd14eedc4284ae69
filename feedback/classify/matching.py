"""Find cue phrases in a tokenised reply and mark the negated ones.

Negation is scoped: a negator counts only a few words before a cue and never across a clause
break ("Not a duplicate btw - I checked" negates "duplicate" and nothing after the dash), and a
post-negator ("price was fine", "weren't the issue") clears the reason cues before it in its clause.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from feedback.classify import markers
from feedback.classify.cue_lexicon import GAP_MAX, Element, KindLexicon, Target
from feedback.classify.normalise import CONTRASTS, SENTENCE, WORD, Tokens
from feedback.classify.typos import COMMON_WORDS, repair, umlaut_spelling

# Clause breaks a "..." gap does not cross (";" and contrast words end what a phrase may span).
_GAP_STOPS = frozenset({";"}) | CONTRASTS
_NEGATABLE = frozenset({"outcome", "hint", "reason", "post_negator", "promoter"})


class Hit(NamedTuple):
    """One matched phrase: token span, where it sits, what it says, whether it is negated.

    A NamedTuple rather than a frozen dataclass: a reply makes a dozen of these per call and
    tuple construction is several times cheaper.
    """

    start: int
    end: int  # exclusive
    sentence: int
    clause: int
    phrase: str
    targets: tuple[Target, ...]
    types: frozenset[str]
    negated: bool = False
    praised: bool = False  # "they liked the price": a reason only for the positive outcome
    size: int = 1  # words the phrase names (not counting gaps): "existing customer" is 2
    codes: tuple[str, ...] = ()  # the reason codes among the targets, in order
    rival: bool = False  # praise or a comparison said of a rival ("their UI was nicer"): see rivals

    def has(self, type_: str) -> bool:
        return type_ in self.types


@dataclass(frozen=True, slots=True)
class Matches:
    hits: tuple[Hit, ...]
    repaired: tuple[tuple[str, str], ...]  # (as typed, read as)
    first_word: tuple[bool, ...]  # per token: first word of its sentence


def find_hits(tokens: Tokens, lex: KindLexicon) -> Matches:
    words = list(tokens.words)
    kinds = tokens.kinds
    n = len(words)
    first_word = [False] * n
    repaired: list[tuple[str, str]] = []
    prev_break = True
    vocabulary = lex.vocabulary
    for i in range(n):
        if kinds[i] != WORD:
            prev_break = prev_break or kinds[i] == SENTENCE
            continue
        first_word[i] = prev_break
        prev_break = False
        w = words[i]
        if w in vocabulary or w in COMMON_WORDS:
            continue
        spelled = umlaut_spelling(lex, w)
        if spelled is not None:
            words[i] = spelled
            continue
        fixed = repair(lex, w, sentence_start=first_word[i])
        if fixed is not None:
            repaired.append((words[i], fixed))
            words[i] = fixed

    raw: list[Hit] = []
    candidates = lex.candidates
    i = 0
    while i < n:
        if kinds[i] != WORD:
            i += 1
            continue
        loose, by_second = candidates(words[i])
        if not loose and not by_second:  # most words start no cue
            i += 1
            continue
        best_rank: tuple[int, int, int, int] | None = None
        best_end = -1
        targets: tuple[Target, ...] = ()
        types: frozenset[str] = frozenset()
        text = ""
        nxt = words[i + 1] if i + 1 < n and kinds[i + 1] == WORD else None
        pairs = by_second.get(nxt, ()) if nxt is not None and by_second else ()
        for idx in loose + pairs if pairs else loose:
            phrase = lex.phrases[idx]
            els = phrase.elements
            if len(els) == 1:
                end = i + 1
            elif len(els) == 2 and not els[1].gap and nxt is not None and els[1].accepts(nxt):
                end = i + 2
            else:
                end = _match(els, words, kinds, tokens.sentence, i)
            if end < 0:
                continue
            rank = (phrase.matched, phrase.exact_words, -phrase.gaps, -(end - i))
            if best_rank is None or rank > best_rank:
                best_rank, best_end, targets, types, text = (
                    rank,
                    end,
                    phrase.targets,
                    phrase.types,
                    phrase.text,
                )
            elif rank == best_rank and end == best_end:  # same words, two phrases: keep both readings
                targets = targets + tuple(t for t in phrase.targets if t not in targets)
                types = types | phrase.types
        if best_rank is None:
            i += 1
            continue
        end = best_end
        negated = _pre_negated(words, kinds, i) and not types.isdisjoint(_NEGATABLE)
        praised = "reason" in types and _preceded_by(words, kinds, i, markers.PRAISE)
        codes = (
            tuple(dict.fromkeys(t.code for t in targets if t.type == "reason")) if "reason" in types else ()
        )
        raw.append(
            Hit(
                i,
                end,
                tokens.sentence[i],
                tokens.clause[i],
                text,
                targets,
                types,
                negated,
                praised,
                best_rank[0],
                codes,
            )
        )
        i = end

    # a pre-negator phrase clears the cues shortly after it in its clause (one forward pass)
    negating_clause, negating_end = -1, -1
    for k, hit in enumerate(raw):
        if hit.has("pre_negator") and not hit.negated:
            negating_clause, negating_end = hit.clause, hit.end
        elif (
            hit.clause == negating_clause
            and hit.start - negating_end <= markers.PRE_NEGATOR_REACH
            and not hit.negated
            and not hit.types.isdisjoint(_NEGATABLE)
        ):
            raw[k] = hit._replace(negated=True)
    # a workaround after a contrast ("... bounced, but I reached him") clears the reason cues of
    # earlier clauses in its sentence (one backward pass)
    cleared_sentence = cleared_before = -1
    for k in range(len(raw) - 1, -1, -1):
        hit = raw[k]
        if hit.has("workaround") and not hit.negated and _after_contrast(tokens, hit.start):
            cleared_sentence, cleared_before = hit.sentence, hit.clause
        elif (
            hit.sentence == cleared_sentence
            and hit.clause < cleared_before
            and hit.has("reason")
            and not hit.negated
        ):
            raw[k] = hit._replace(negated=True)
    # criticism before a reason cue ("issue with the price") keeps its negative readings (forward)
    critic_clause, critic_end = -1, -1
    for k, hit in enumerate(raw):
        if hit.has("pre_criticism"):
            critic_clause, critic_end = hit.clause, hit.end
        elif hit.codes and hit.clause == critic_clause and hit.start - critic_end <= markers.CRITICISM_REACH:
            raw[k] = _criticised(hit, lex)
    # a post-negator clears, post-praise marks, post-criticism narrows, the reason cues before it in
    # its clause (backward)
    hits: list[Hit] = []
    cleared_clause = praised_clause = criticised_clause = -1
    for hit in reversed(raw):
        if hit.has("post_negator") and not hit.negated and not _attributive(hit, words, kinds):
            cleared_clause = hit.clause
        elif hit.has("post_praise") and not hit.negated:
            praised_clause = hit.clause
        elif hit.has("post_criticism") and not hit.negated:
            criticised_clause = hit.clause
        elif hit.has("reason") and not hit.negated:
            if hit.clause == cleared_clause:
                hit = hit._replace(negated=True)
            elif hit.clause == praised_clause:
                hit = hit._replace(praised=True)
            elif hit.clause == criticised_clause:
                hit = _criticised(hit, lex)
        hits.append(hit)
    hits.reverse()
    return Matches(tuple(hits), tuple(repaired), tuple(first_word))


def _attributive(hit: Hit, words: list[str], kinds: tuple[int, ...]) -> bool:
    """A one-word post-negator used before a noun ("similar clients", "a fine product")."""
    if hit.end - hit.start != 1 or words[hit.start] not in markers.ATTRIBUTIVE or hit.end >= len(words):
        return False
    return kinds[hit.end] == WORD and words[hit.end] not in markers.ATTRIBUTIVE_FOLLOWERS


def _criticised(hit: Hit, lex: KindLexicon) -> Hit:
    """A criticised cue shared by several outcomes keeps only its readings for the other outcomes
    than the positive one ("price was the killer" is lost/price, not won/price_value)."""
    if len(hit.codes) < 2 or not lex.kind.outcomes:
        return hit
    positive = lex.kind.outcomes[0].code
    kept = tuple(c for c in hit.codes if lex.reason_outcome[c] != positive)
    return hit._replace(codes=kept) if kept and len(kept) < len(hit.codes) else hit


def _after_contrast(tokens: Tokens, start: int) -> bool:
    """Whether the clause holding token ``start`` opens with a contrast word ("but", "aber")."""
    j = start - 1
    while j >= 0 and tokens.kinds[j] == WORD:
        j -= 1
    return j >= 0 and tokens.words[j] in CONTRASTS


def _match(
    elements: tuple[Element, ...], words: list[str], kinds: tuple[int, ...], sentence: tuple[int, ...], i: int
) -> int:
    """End index (exclusive) of ``elements`` matched from word ``i``, or -1."""
    pos = i
    k = 0
    n = len(words)
    while k < len(elements):
        el = elements[k]
        if el.gap:
            nxt = elements[k + 1]
            skipped = 0
            j = pos
            while j < n and skipped <= GAP_MAX and sentence[j] == sentence[i]:
                if kinds[j] == WORD:
                    if nxt.accepts(words[j]):
                        break
                    if words[j] in markers.NEGATORS or words[j] in markers.SCOPE_STOPS:
                        return -1
                    skipped += 1
                elif words[j] in _GAP_STOPS:  # "won on support; pricing ...", "X but Y"
                    return -1
                j += 1
            else:
                return -1
            if j >= n or kinds[j] != WORD or sentence[j] != sentence[i] or skipped > GAP_MAX:
                return -1
            pos = j + 1
            k += 2
            continue
        if pos >= n or kinds[pos] != WORD or not el.accepts(words[pos]):
            return -1
        pos += 1
        k += 1
    return pos


def _preceded_by(words: list[str], kinds: tuple[int, ...], start: int, markers_: frozenset[str]) -> bool:
    j = start - 1
    stop = max(-1, start - 1 - markers.NEGATION_WINDOW)
    while j > stop and kinds[j] == WORD and words[j] not in markers.SCOPE_STOPS:
        if words[j] in markers_:
            return True
        j -= 1
    return False


def _pre_negated(words: list[str], kinds: tuple[int, ...], start: int) -> bool:
    seen = 0
    j = start - 1
    while j >= 0 and seen < markers.NEGATION_WINDOW and kinds[j] == WORD:
        if words[j] in markers.SCOPE_STOPS or words[j] in markers.FAILURE_VERBS:
            return False
        if words[j] in markers.NEGATORS:
            return True
        if j > 0 and kinds[j - 1] == WORD and (words[j - 1], words[j]) in markers.NEGATOR_PAIRS:
            return True
        seen += 1
        j -= 1
    return False
