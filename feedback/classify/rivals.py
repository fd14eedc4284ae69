"""Superiority said of the other side: "their dashboards were better", "X was cheaper".

Praise normally counts only for the kind's positive outcome ("support was excellent" is why we
won). When the praise or comparison is said of a rival instead (a third-person subject such as
"they", "their", "the other vendor", "the incumbent", or a competitor's name, before the
comparative in the same clause, with no "we/our" in it except after "than"), it is the rival's
strength and so, on any other outcome than the positive one, our weakness: the cue keeps its
non-positive readings ("their dashboards were better" is lost/missing_feature, "they were
cheaper" lost/price), and a cue with only positive readings ("their support was better") falls
to the fallback reason of that outcome (lost/competitor). Wants and needs ("they wanted better
reporting") are the buyer speaking, not a rival.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from feedback.classify import markers
from feedback.classify.cue_lexicon import Target
from feedback.classify.matching import Hit
from feedback.classify.normalise import WORD, Tokens, fold
from feedback.core.competitor_list import Competitor


def mark_rivals(
    hits: Sequence[Hit], tokens: Tokens, names: Iterable[tuple[str, ...]] = ()
) -> tuple[Hit, ...]:
    """``hits`` with ``rival`` set on reason cues whose clause praises or compares a rival (a
    competitor's name counts from its first word)."""
    if not any(h.codes for h in hits):
        return tuple(hits)
    rival_words = markers.RIVALS | frozenset(seq[0] for seq in names)
    words, kinds, clause = tokens.words, tokens.kinds, tokens.clause
    # per clause: the first rival subject, the first comparative after it, and whether the clause
    # speaks of us or of the buyer's wants (both rule the rival reading out)
    subject: dict[int, int] = {}
    compared: set[int] = set()
    excluded: set[int] = set()
    for i, w in enumerate(words):
        if kinds[i] != WORD:
            continue
        c = clause[i]
        if w in markers.FIRST_PERSON:
            if not (i > 0 and words[i - 1] in markers.THAN):
                excluded.add(c)
        elif w in markers.WANTS:
            excluded.add(c)
        elif w in rival_words:
            subject.setdefault(c, i)
        elif w in markers.COMPARATIVES and c in subject:
            compared.add(c)
    rival = compared - excluded
    if not rival:
        return tuple(hits)
    return tuple(
        h._replace(rival=True) if h.codes and not h.negated and h.clause in rival else h for h in hits
    )


# between a subject and its verb: "Contoso has won", "Contoso a gagné", "Contoso hat gewonnen"
_BETWEEN = frozenset(
    {
        "has", "have", "had", "just", "eventually", "ultimately", "finally", "already", "clearly",
        "hat", "haben", "hatte", "am", "ende", "schliesslich", "letztlich",
        "a", "ont", "avait", "finalement", "ha", "han", "habia", "finalmente", "l", "le", "la", "den",
    }
)  # fmt: skip
# "they" names the rival only before a verb a vendor does ("they got the deal", "they won it"):
# the buyer is "they" too, before the buyer's verbs ("they signed", "they bought")
_PRONOUNS = frozenset({"they", "ils", "ellos"})
_VENDOR_WINS = frozenset({"won", "win", "wins", "got", "took", "gagne", "remporte", "ganaron", "gano"})
# nouns that name the other side as a subject
_RIVAL_NOUNS = frozenset(
    {
        "competitor", "competition", "incumbent", "rival", "konkurrenz", "wettbewerber", "mitbewerber",
        "konkurrent", "concurrent", "concurrence", "competidor", "competencia",
    }
)  # fmt: skip


def rival_name_words(found: str | None, competitors: tuple[Competitor, ...]) -> frozenset[tuple[str, ...]]:
    """Folded word sequences of the competitor found and of every configured name and alias."""
    configured = _configured_name_words(competitors)
    seq = _name_words(found) if found else ()
    return configured | {seq} if seq and seq not in configured else configured


@lru_cache(maxsize=64)
def _configured_name_words(competitors: tuple[Competitor, ...]) -> frozenset[tuple[str, ...]]:
    """Per competitor list, not per reply: folding every alias for every reply is wasted work."""
    return frozenset(seq for c in competitors for a in (c.name, *c.aliases) if (seq := _name_words(a)))


def _name_words(name: str) -> tuple[str, ...]:
    return tuple(fold(name).replace("'", " ").split())


def rival_wins(
    hits: Sequence[Hit],
    tokens: Tokens,
    names: Iterable[tuple[str, ...]],
    *,
    positive: str,
    lost: str,
    lost_reason: str,
) -> tuple[Hit, ...]:
    """A win whose subject is the other side is our loss: "Contoso won", "the incumbent won it".

    The positive outcome word right after a competitor's name (or a noun such as "competitor",
    "incumbent"; or "they" before a vendor's verb: "Relecloud had the better relationship, they
    got the deal"), auxiliaries and adverbs aside, states ``lost`` with
    ``lost_reason`` (the kind's reason for losing to a competitor) instead. "We won against
    Contoso" keeps its win.
    """
    seqs = tuple(names)
    words = tokens.words
    out = []
    for h in hits:
        said = [t for t in h.targets if t.type == "outcome" and t.code == positive]
        vendor_verb = h.start < len(words) and words[h.start] in _VENDOR_WINS
        if not said or h.negated or not _after_rival(words, h.start, seqs, pronoun=vendor_verb):
            out.append(h)
            continue
        weight = max(t.weight for t in said)
        targets = (Target("outcome", lost, weight), Target("reason", lost_reason))
        rest = tuple(t for t in h.targets if not (t.type == "outcome" and t.code == positive))
        out.append(
            h._replace(
                targets=targets + rest,
                types=h.types | {"outcome", "reason"},
                codes=(lost_reason, *h.codes),
            )
        )
    return tuple(out)


def _after_rival(
    words: Sequence[str], start: int, names: Sequence[tuple[str, ...]], *, pronoun: bool = False
) -> bool:
    i = start
    while i > 0 and words[i - 1] in _BETWEEN:
        i -= 1
    if i > 0 and (words[i - 1] in _RIVAL_NOUNS or (pronoun and words[i - 1] in _PRONOUNS)):
        return True
    return any(len(seq) <= i and tuple(words[i - len(seq) : i]) == seq for seq in names)


def rival_chosen(hits: Sequence[Hit], tokens: Tokens, *, lost: str, lost_reason: str) -> tuple[Hit, ...]:
    """The buyer chose a rival ("went to Woodgrove", "Sisense got it"): a hint of ``lost`` with the
    ``lost_reason``, unless a cue already says so; a plain outcome word still outweighs it."""
    if any(not h.negated and any(t.code in (lost, lost_reason) for t in h.targets) for h in hits):
        return tuple(hits)
    end = len(tokens.words)
    chosen = Hit(
        start=end,
        end=end,
        sentence=tokens.sentence[-1] if end else 0,
        clause=tokens.clause[-1] if end else 0,
        phrase="(a rival was chosen)",
        targets=(Target("hint", lost, 1.0), Target("reason", lost_reason)),
        types=frozenset({"hint", "reason"}),
        codes=(lost_reason,),
    )
    return (*hits, chosen)


def drop_name_cues(hits: Sequence[Hit], tokens: Tokens, names: Iterable[tuple[str, ...]]) -> tuple[Hit, ...]:
    """Cues inside a competitor's name say nothing: "Lost to Northwind Security" is no security reason."""
    words = tokens.words
    spans = [
        (i, i + len(seq))
        for seq in names
        for i in range(len(words) - len(seq) + 1)
        if words[i] == seq[0] and tuple(words[i : i + len(seq)]) == seq
    ]
    if not spans:
        return tuple(hits)
    return tuple(h for h in hits if not any(a <= h.start and h.end <= b for a, b in spans))
