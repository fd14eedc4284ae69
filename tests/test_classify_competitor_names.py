"""Competitor names: misspelt configured names in any case, and colleagues who are no competitor."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.classify import ClassificationResult, classify
from feedback.core.competitor_list import Competitor
from feedback.core.taxonomy import default_taxonomy

T = default_taxonomy()
W, D = "winloss", "disposition"
COMPETITORS = (
    Competitor(name="Contoso", aliases=("Contoso Suite",)),
    Competitor(name="Northwind BI", aliases=("northwind", "nw")),
    Competitor(name="Maple", aliases=()),
)


def run(kind: str, text: str) -> ClassificationResult:
    return classify(text, kind=kind, taxonomy=T, competitors=COMPETITORS)


@pytest.mark.parametrize(
    ("text", "competitor"),
    [
        ("Lost to Contosso on price", "Contoso"),  # the cases: capitalised after a choice phrase
        ("They went with Contso", "Contoso"),
        ("Lost. They signed with Nortwhind for half the price.", "Northwind BI"),  # 9 letters: 2 edits
        ("LOST TO NROTHWIND", "Northwind BI"),
        ("went with Mapel in the end", "Maple"),  # 5 letters: one edit
        ("Contosso won it, cheaper", "Contoso"),  # the "X won" pattern too
        ("se fueron con Contosso", "Contoso"),
    ],
)
def test_a_misspelt_configured_name_is_that_competitor_whatever_its_case(text: str, competitor: str) -> None:
    r = run(W, text)
    assert (r.competitor, r.competitor_listed) == (competitor, True), r.explanation
    assert r.outcome == "lost"


@pytest.mark.parametrize(
    ("text", "competitor"),
    [
        ("They went with Apple in the end", "Apple"),  # a common word is never a typo of "Maple"
        ("Lost to Nowa Software", "Nowa Software"),  # a short alias ("nw") is never a typo target
        ("Lost to Contrast Labs", "Contrast Labs"),  # too far from "contoso"
        ("Lost to Mapleton Systems", "Mapleton Systems"),  # more than one edit from a 5-letter name
    ],
)
def test_an_unlisted_name_near_a_short_or_common_word_stays_as_written(text: str, competitor: str) -> None:
    r = run(W, text)
    assert (r.competitor, r.competitor_listed) == (competitor, False), r.explanation


def test_a_rival_win_under_a_misspelt_name_is_our_loss() -> None:
    r = run(W, "Nortwhind won the deal")
    assert (r.outcome, r.reasons, r.competitor) == ("lost", ("competitor",), "Northwind BI")


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        (W, "Sarah took it over"),
        (W, "Went with Sarah's recommendation"),
        (W, "Handed to Tom - Tom took it over."),
        (W, "they went with Gartner's advice, no decision yet"),  # advice is a person's, not a vendor's
        (W, "Der Deal ging an Kollegin Meier aus dem Vertrieb"),
        (W, "Se fueron con el Sr. García de compras"),
        (W, "Went with Mr Okafor from their finance team"),
        (W, "They went with Sarah Chen's team"),
        (W, "Ana took the deal over last week"),
    ],
)
def test_a_colleague_is_never_a_competitor(kind: str, text: str) -> None:
    assert run(kind, text).competitor is None


def test_a_hand_over_is_no_win_and_no_loss() -> None:
    # "took it" alone is a win ("we took it") or a rival's ("Contoso took it"); "took it over" is neither
    assert run(W, "Sarah took it over").outcome is None
    assert run(W, "Took it over the line on Friday").outcome == "won"


def test_a_person_beside_a_competitor_leaves_the_competitor() -> None:
    r = run(W, "Went with Sarah's recommendation and signed with Globex Dataworks")
    assert r.competitor == "Globex Dataworks"
    r = run(W, "Lost - Tom took it over, they went with Contoso")
    assert (r.outcome, r.competitor) == ("lost", "Contoso")


@pytest.mark.parametrize("vendor", ["Apollo", "Jasper", "Harvey"])
def test_a_vendor_named_like_a_first_name_is_still_a_competitor(vendor: str) -> None:
    # a first name alone is no evidence of a person: it is stored, and reviewed the first time
    r = run(W, f"Lost to {vendor} on price")
    assert (r.outcome, r.competitor, r.competitor_listed) == ("lost", vendor, False)


def test_the_result_says_whether_the_competitor_is_configured() -> None:
    assert run(W, "Lost to northwind").competitor_listed
    assert not run(W, "Lost to Globex Dataworks").competitor_listed
    assert not run(W, "Lost on price").competitor_listed


def test_the_reps_names_given_are_never_competitors() -> None:
    text = "Lost - they went with Dana on this one"
    assert run(W, text).competitor == "Dana"  # a first name alone may be a vendor's
    reps = ["Dana Whitfield", "Ann Kowalski"]
    assert classify(text, kind=W, taxonomy=T, competitors=COMPETITORS, people=reps).competitor is None
    full = "Lost, Dana Whitfield took it"
    assert classify(full, kind=W, taxonomy=T, competitors=COMPETITORS, people=reps).competitor is None
    # a rival still is one
    rival = "Lost, went with Dana then signed with Globex Dataworks"
    got = classify(rival, kind=W, taxonomy=T, competitors=COMPETITORS, people=reps)
    assert got.competitor == "Globex Dataworks"


def test_a_vendors_possessive_names_the_vendor() -> None:
    # a possessive is no part of the name, and "call center" is a product, not someone's call
    assert run(W, "Lost - went with Globex's call center product").competitor == "Globex"
    assert run(W, "They went with Initech's platform, cheaper").competitor == "Initech"


# pieces that start, continue, break or nearly make a choice phrase, in several languages and cases
_PIECES = [
    "went", "With", "w/", "lost", "out", "to", "Lost it TO", "beat", "beaten", "by", "beats", "vs", "vs.",
    "us", "over", "a", "choisi", "ont", "préféré", "opté pour", "eligió", "se", "fueron", "con",
    "sich", "für", "verloren an", "passés", "chez", "won", "against", "Contoso", "x-beat", "_went",
    "we", "the deal", " ", "  ", "\n", ", ", ". ", "-", "'", "é", "9",
]  # fmt: skip


@given(st.lists(st.sampled_from(_PIECES), max_size=30).map(" ".join))
@settings(max_examples=400, deadline=None)
def test_choice_phrases_are_found_where_the_full_scan_finds_them(text: str) -> None:
    """The choice-phrase search tries its pattern only at the words a phrase can start with (8x
    cheaper on a long reply); it must find exactly what scanning every position finds."""
    from feedback.classify.competitors import _TRIGGER, _choice_phrases

    assert [m.span() for m in _choice_phrases(text)] == [m.span() for m in _TRIGGER.finditer(text)]


def test_the_start_words_are_exactly_the_choice_pattern_s_first_words() -> None:
    """The start words are a second list beside the pattern: a branch added to the pattern with a
    new first word would never be tried. Read the first words out of the compiled pattern (the
    stdlib's own regex parser) and hold the list to them."""
    import re._constants as c
    import re._parser as parser

    from feedback.classify.competitors import _TRIGGER, _TRIGGER_STARTS

    def heads(items: list[tuple[object, object]], prefix: str = "") -> set[str]:
        """The letter runs a sequence of parsed items can start with."""
        if not items:
            return {prefix}
        (op, av), rest = items[0], items[1:]
        if op is c.AT:
            return heads(rest, prefix)
        if op is c.LITERAL and chr(av).isalpha():
            return heads(rest, prefix + chr(av))
        if op is c.IN and all(o is c.LITERAL and chr(v).isalpha() for o, v in av):
            return set().union(*(heads(rest, prefix + chr(v)) for _, v in av))
        if op is c.SUBPATTERN:
            return heads([*av[3], *rest], prefix)
        if op is c.BRANCH:
            return set().union(*(heads([*b, *rest], prefix) for b in av[1]))
        if op is c.MAX_REPEAT and av[:2] == (0, 1):
            return heads(rest, prefix) | heads([*av[2], *rest], prefix)
        return {prefix}

    firsts = {w.lower() for w in heads(list(parser.parse(_TRIGGER.pattern)))}
    assert "" not in firsts and firsts == _TRIGGER_STARTS
