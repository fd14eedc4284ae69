"""The taxonomy as data: default, extend, replace, and invalid files refused with line and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedback.classify import classify
from feedback.classify.cue_lexicon import build_lexicon, parse_phrase
from feedback.core.taxonomy import TaxonomyError, default_taxonomy, load_taxonomy, parse_taxonomy_toml

LANGS = ("en", "de", "fr", "es")


def test_default_options_are_numbered_across_outcomes() -> None:
    t = default_taxonomy()
    disp, wl = t.kind("disposition"), t.kind("winloss")
    assert len(disp.options) == 14 and len(wl.options) == 16
    assert [o.number for o in disp.options] == list(range(1, 15))
    assert disp.option(1).reason == "meeting_booked"  # type: ignore[union-attr]
    assert disp.option(14).reason == "early_research"  # type: ignore[union-attr]
    assert wl.option(7).reason == "price" and wl.option(7).outcome == "lost"  # type: ignore[union-attr]
    assert disp.option(0) is None and disp.option(15) is None


def test_every_code_has_cue_phrases_in_four_languages() -> None:
    t = default_taxonomy()
    for kind in t.kinds.values():
        for outcome in kind.outcomes:
            assert set(LANGS) <= set(outcome.phrases), outcome.code
            for reason in outcome.reasons:
                assert set(LANGS) <= set(reason.phrases), reason.code


def test_every_shipped_phrase_compiles() -> None:
    t = default_taxonomy()
    for kind in t.kinds.values():
        for outcome in kind.outcomes:
            for phrases in (*outcome.phrases.values(), *outcome.hints.values()):
                for p in phrases:
                    parse_phrase(p)
            for reason in outcome.reasons:
                for phrases in reason.phrases.values():
                    for p in phrases:
                        parse_phrase(p)
        build_lexicon(kind)


def test_extend_adds_a_reason_with_phrases() -> None:
    t = load_taxonomy(
        {
            "kinds": {
                "winloss": {
                    "outcomes": [
                        {
                            "code": "lost",
                            "reasons": [
                                {
                                    "code": "procurement",
                                    "label": "Procurement",
                                    "phrases": {"en": ["purchasing blocked"]},
                                }
                            ],
                        }
                    ]
                }
            }
        }
    )
    wl = t.kind("winloss")
    assert wl.reason_outcome["procurement"] == "lost"
    assert wl.reason_outcome["price"] == "lost"  # the default is kept
    assert t.fingerprint != default_taxonomy().fingerprint
    r = classify("Purchasing blocked it", kind="winloss", taxonomy=t)
    assert (r.outcome, r.reasons) == ("lost", ("procurement",))


def test_extend_adds_phrases_to_an_existing_reason() -> None:
    t = load_taxonomy(
        {
            "kinds": {
                "disposition": {
                    "outcomes": [
                        {
                            "code": "rejected",
                            "reasons": [
                                {
                                    "code": "not_a_fit",
                                    "label": "Not a fit",
                                    "phrases": {"en": ["wrong vertical"]},
                                }
                            ],
                        }
                    ]
                }
            }
        }
    )
    r = classify("wrong vertical", kind="disposition", taxonomy=t)
    assert (r.outcome, r.reasons) == ("rejected", ("not_a_fit",))


def test_replace() -> None:
    t = load_taxonomy(
        {
            "mode": "replace",
            "version": "acme-1",
            "kinds": {
                kind: {
                    "label": kind,
                    "outcomes": [
                        {
                            "code": "yes",
                            "label": "Yes",
                            "phrases": {"en": ["yep"]},
                            "reasons": [{"code": "good", "label": "Good"}],
                        },
                        {"code": "no", "label": "No", "reasons": [{"code": "bad", "label": "Bad"}]},
                    ],
                }
                for kind in ("disposition", "winloss")
            },
        }
    )
    assert t.version == "acme-1"
    assert [o.reason for o in t.kind("winloss").options] == ["good", "bad"]
    assert classify("yep", kind="winloss", taxonomy=t).outcome == "yes"
    assert classify("2", kind="winloss", taxonomy=t).reasons == ("bad",)


BAD_REASON = """\
[taxonomy]
version = "x"

[[taxonomy.kinds.winloss.outcomes]]
code = "lost"

[[taxonomy.kinds.winloss.outcomes.reasons]]
code = "Bad Code"
label = "Oops"
"""


def test_invalid_value_names_the_line() -> None:
    with pytest.raises(TaxonomyError, match=r"feedback\.toml: invalid taxonomy: line 8: .*code.*pattern"):
        parse_taxonomy_toml(BAD_REASON)


def test_invalid_value_names_the_line_of_a_config_file(tmp_path: Path) -> None:
    path = tmp_path / "feedback.toml"
    path.write_text(BAD_REASON, encoding="utf-8")
    import tomllib

    override = tomllib.loads(BAD_REASON)["taxonomy"]
    with pytest.raises(TaxonomyError, match=rf"{path.name}: invalid taxonomy: line 8:"):
        load_taxonomy(override, source=str(path))


def test_unknown_key_names_the_line() -> None:
    text = '[taxonomy]\n\n[[taxonomy.kinds.disposition.outcomes]]\ncode = "accepted"\ncolour = "green"\n'
    with pytest.raises(TaxonomyError, match=r"line 5: .*colour.*Extra inputs"):
        parse_taxonomy_toml(text)


def test_toml_syntax_error_names_the_line() -> None:
    with pytest.raises(TaxonomyError, match=r"not valid TOML: .*line 3"):
        parse_taxonomy_toml('[taxonomy]\nversion = "a"\ncode = = "x"\n')


def test_duplicate_reason_code_is_refused() -> None:
    with pytest.raises(TaxonomyError, match="appears under two outcomes"):
        load_taxonomy(
            {
                "kinds": {
                    "winloss": {
                        "outcomes": [{"code": "won", "reasons": [{"code": "price", "label": "Price"}]}]
                    }
                }
            }
        )


def test_replace_must_define_both_kinds() -> None:
    with pytest.raises(TaxonomyError, match="lacks kind"):
        load_taxonomy({"mode": "replace", "kinds": {}})


def test_bad_mode_is_refused() -> None:
    with pytest.raises(TaxonomyError, match="mode must be"):
        load_taxonomy({"mode": "merge"})


def test_bad_phrase_syntax_is_refused() -> None:
    with pytest.raises(TaxonomyError, match=r"phrases\.en: '\.\.\. lost'"):
        load_taxonomy(
            {"kinds": {"winloss": {"outcomes": [{"code": "lost", "phrases": {"en": ["... lost"]}}]}}}
        )


def test_unknown_kind() -> None:
    with pytest.raises(TaxonomyError, match="unknown request kind"):
        default_taxonomy().kind("upsell")


def test_fingerprint_is_stable() -> None:
    assert load_taxonomy().fingerprint == default_taxonomy().fingerprint


def test_extending_phrases_keeps_the_shipped_ones() -> None:
    t = load_taxonomy(
        {
            "kinds": {
                "disposition": {
                    "outcomes": [
                        {
                            "code": "rejected",
                            "reasons": [
                                {
                                    "code": "not_a_fit",
                                    "label": "Not a fit",
                                    "phrases": {"en": ["wrong vertical"], "it": ["non adatto"]},
                                }
                            ],
                        }
                    ]
                }
            }
        }
    )
    reason = t.kind("disposition").reason("not_a_fit")
    assert "wrong vertical" in reason.phrases["en"] and "not a fit" in reason.phrases["en"]
    assert reason.phrases["it"] == ("non adatto",) and reason.phrases["de"]
    assert classify("non adatto", kind="disposition", taxonomy=t).reasons == ("not_a_fit",)


def test_missing_field_points_at_its_entry() -> None:
    text = (
        '[taxonomy]\n\n[[taxonomy.kinds.winloss.outcomes]]\ncode = "lost"\n\n'
        '[[taxonomy.kinds.winloss.outcomes.reasons]]\ncode = "procurement"\n\n'
        '[[taxonomy.kinds.winloss.outcomes.reasons]]\ncode = "legal_block"\nlabel = "Legal"\n'
    )
    with pytest.raises(
        TaxonomyError,
        match=r"line 7: taxonomy\.kinds\.winloss\.outcomes\.1\.reasons\.6\.label: Field required",
    ):
        parse_taxonomy_toml(text)
