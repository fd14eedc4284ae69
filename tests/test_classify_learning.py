"""Corrections from review teach the classifier words the shipped lexicon misses."""

from __future__ import annotations

from feedback.classify import LearnedExamples, classify
from feedback.taxonomy import default_taxonomy

T = default_taxonomy()


def test_a_correction_fixes_later_replies_of_the_same_kind() -> None:
    # "zorbed" is team slang the shipped lexicon cannot know
    before = classify("zorbed, sorry", kind="disposition", taxonomy=T)
    assert before.outcome is None
    learned = LearnedExamples.from_rows(
        [("disposition", "zorbed - total mismatch", "rejected", ["not_a_fit"], None)]
    )
    after = classify("zorbed again, 2 people company", kind="disposition", taxonomy=T, learned=learned)
    assert (after.outcome, after.reasons) == ("rejected", ("not_a_fit",))
    # the learned word goes through the same negation handling as shipped phrases
    negated = classify("not zorbed, accepted", kind="disposition", taxonomy=T, learned=learned)
    assert (negated.outcome, negated.reasons) == ("accepted", ())


def test_learning_stays_in_its_kind() -> None:
    learned = LearnedExamples.from_rows([("disposition", "zorbed", "rejected", ["not_a_fit"], None)])
    other = classify("zorbed", kind="winloss", taxonomy=T, learned=learned)
    assert other.outcome is None and other.reasons == ()


def test_nothing_is_learned_from_replies_already_read_right() -> None:
    learned = LearnedExamples.from_rows([("winloss", "Lost on price, blorp", "lost", ["price"], None)])
    assert classify("blorp", kind="winloss", taxonomy=T, learned=learned).outcome is None


def test_conflicting_corrections_cancel_out() -> None:
    learned = LearnedExamples.from_rows(
        [
            ("winloss", "meh zonk", "won", ["support"], None),
            ("winloss", "zonk", "lost", ["price"], None),
        ]
    )
    assert classify("zonk again", kind="winloss", taxonomy=T, learned=learned).outcome is None


def test_the_same_words_get_the_corrected_labels() -> None:
    text = "Call it what you want, Fabrikam probably"
    learned = LearnedExamples.from_rows([("winloss", text, "lost", ["competitor"], "Fabrikam Analytics")])
    r = classify(f"  {text.upper()} ", kind="winloss", taxonomy=T, learned=learned)
    assert (r.outcome, r.reasons, r.competitor) == ("lost", ("competitor",), "Fabrikam Analytics")


def test_reviewed_unlisted_competitor_is_recognised_later() -> None:
    learned = LearnedExamples.from_rows(
        [("winloss", "Lost, Brightwave", "lost", ["competitor"], "Brightwave")]
    )
    r = classify("Lost on price, brightwave was cheaper", kind="winloss", taxonomy=T, learned=learned)
    assert r.competitor == "Brightwave"


def test_without_learned_examples_nothing_changes() -> None:
    text = "zorbed"
    assert classify(text, kind="disposition", taxonomy=T) == classify(
        text, kind="disposition", taxonomy=T, learned=LearnedExamples()
    )


def test_a_long_reply_teaches_a_word_only_when_seen_twice() -> None:
    long_text = "Spoke with them twice, the whole thing is a blarg situation, they have other plans for now"
    once = LearnedExamples.from_rows([("disposition", long_text, "rejected", ["no_need"], None)])
    assert classify("blarg", kind="disposition", taxonomy=T, learned=once).outcome is None
    twice = LearnedExamples.from_rows(
        [
            ("disposition", long_text, "rejected", ["no_need"], None),
            (
                "disposition",
                "Another blarg one, they said the team has other plans again",
                "rejected",
                ["no_need"],
                None,
            ),
        ]
    )
    assert classify("blarg", kind="disposition", taxonomy=T, learned=twice).reasons == ("no_need",)
