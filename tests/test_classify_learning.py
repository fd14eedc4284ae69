"""Corrections from review teach the classifier words the shipped lexicon misses."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.classify import LearnedExamples, classify
from feedback.classify.cue_lexicon import lexicon_for
from feedback.core.taxonomy import default_taxonomy

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


def test_a_word_that_starts_the_reply_is_learned_unless_it_is_a_name() -> None:
    # capitals at a sentence start say nothing about a name
    for text in ("Freeloader.", "Ok. Freeloader!", "- Freeloader"):
        learned = LearnedExamples.from_rows([("disposition", text, "rejected", ["not_a_fit"], None)])
        r = classify("another freeloader", kind="disposition", taxonomy=T, learned=learned)
        assert (r.outcome, r.reasons) == ("rejected", ("not_a_fit",)), text
    # ... but a word capitalised mid-sentence in another correction is a name
    learned = LearnedExamples.from_rows(
        [
            ("disposition", "Zorbix.", "rejected", ["not_a_fit"], None),
            ("disposition", "Not a fit at all, they already run Zorbix", "rejected", ["not_a_fit"], None),
        ]
    )
    assert classify("zorbix", kind="disposition", taxonomy=T, learned=learned).outcome is None
    # ... and so is a person's first name, in any case
    learned = LearnedExamples.from_rows([("disposition", "Agnieszka.", "rejected", ["not_a_fit"], None)])
    assert classify("agnieszka", kind="disposition", taxonomy=T, learned=learned).outcome is None
    # ... and a word of a competitor name a reviewer entered
    learned = LearnedExamples.from_rows([("winloss", "Brightwave.", "lost", ["competitor"], "Brightwave")])
    r = classify("brightwave again", kind="winloss", taxonomy=T, learned=learned)
    assert r.reasons == () and r.competitor == "Brightwave"


_LOWER = "abcdefghijklmnopqrstuvwxyzéüñ"
_OPTIONS = [(o.outcome, o.reason) for o in T.kind("disposition").options]


@settings(max_examples=15, deadline=None)
@given(
    words=st.lists(st.text(alphabet=_LOWER, min_size=2, max_size=9), min_size=1, max_size=9),
    end=st.sampled_from(["", ".", "!", " - ok"]),
    option=st.sampled_from(_OPTIONS),
)
def test_learning_is_invariant_to_capitalising_the_first_letter(
    words: list[str], end: str, option: tuple[str, str]
) -> None:
    text = " ".join(words) + end
    capitalised = text[0].upper() + text[1:]
    outcome, reason = option

    def learn(reply: str) -> LearnedExamples:
        return LearnedExamples.from_rows([("disposition", reply, outcome, [reason], None)])

    plain, upper = learn(text), learn(capitalised)
    base = lexicon_for(T, "disposition")
    a, b = plain.lexicon(T, "disposition", base), upper.lexicon(T, "disposition", base)
    assert (a.vocabulary, a.cue_words, a.outcome_words) == (b.vocabulary, b.cue_words, b.outcome_words)
    for probe in sorted(set(words))[:3]:
        assert classify(probe, kind="disposition", taxonomy=T, learned=plain) == classify(
            probe, kind="disposition", taxonomy=T, learned=upper
        )
