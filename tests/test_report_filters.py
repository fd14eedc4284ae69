"""Report filters take codes, the labels reports print, aliases, any case; a value that matches
nothing is an error listing the valid (or closest) ones, never a silently empty report.

The CLI checks run on the figures dataset of test_reports_figures (SQLite, and PostgreSQL when
FEEDBACK_TEST_DATABASE_URL is set).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from test_reports_figures import BACKENDS, seeded_engine
from typer.testing import CliRunner

from feedback.core.competitor_list import Competitor
from feedback.core.taxonomy import default_taxonomy
from feedback.reports.filters import (
    FilterError,
    Filters,
    Vocabulary,
    competitor_vocabulary,
    resolve,
    resolve_filters,
    taxonomy_vocabularies,
)
from feedback.reports.values import known_values

TAXONOMY = default_taxonomy()
VOCAB = taxonomy_vocabularies(TAXONOMY)
CONTOSO = Competitor(name="Contoso Suite", aliases=("contoso",))


# the pure resolver -------------------------------------------------------------------------------


def test_codes_labels_and_aliases_in_any_case() -> None:
    assert resolve(VOCAB["reasons"], ["Not a buyer"]) == (("not_a_buyer",), ())
    assert resolve(VOCAB["reasons"], ["  PRICE /  value "]) == (("price_value",), ())
    assert resolve(VOCAB["reasons"], ["No budget"])[0] == ("no_budget",)  # one code, two kinds
    assert resolve(VOCAB["outcomes"], ["Lost", "no decision", "accepted"])[0] == (
        "lost",
        "no_decision",
        "accepted",
    )
    competitors = competitor_vocabulary([CONTOSO], ["Contoso Suite", "Globex", "contoso"])
    # the alias also finds answers stored as written before the competitor was configured
    assert resolve(competitors, ["CONTOSO"])[0] == ("Contoso Suite", "contoso")
    assert resolve(competitors, ["globex"])[0] == ("Globex",)


def test_typos_in_curated_lists_only_when_one_value_is_that_close() -> None:
    competitors = competitor_vocabulary([CONTOSO], [])
    values, notes = resolve(competitors, ["Contsoo"])
    assert values == ("Contoso Suite",) and notes == ("read --competitor 'Contsoo' as Contoso Suite",)
    assert resolve(VOCAB["outcomes"], ["lots"])[0] == ("lost",)
    with pytest.raises(FilterError):
        resolve(VOCAB["outcomes"], ["wan"])  # three letters: no typo allowed ("won"? "wan"?)
    campaigns = Vocabulary.build("--campaign", [("Webinar 2025", ()), ("Webinar 2026", ())])
    with pytest.raises(FilterError, match="'Webinar 2027' matches nothing"):
        resolve(campaigns, ["Webinar 2027"])  # CRM values: never guessed


def test_unknown_values_list_the_valid_or_the_closest() -> None:
    with pytest.raises(FilterError) as err:
        resolve(VOCAB["outcomes"], ["bogus"])
    message = str(err.value)
    assert "\n" not in message and "--outcome 'bogus' matches nothing" in message
    assert "accepted, rejected, recycled, won, lost, no_decision" in message
    many = Vocabulary.build("--campaign", [(f"Campaign {i:03d}", ()) for i in range(300)] + [("Webinar", ())])
    with pytest.raises(FilterError) as err:
        resolve(many, ["webinr"])
    assert "closest of 301: Webinar," in str(err.value) and str(err.value).count(",") < 12
    with pytest.raises(FilterError, match="no values to filter on yet"):
        resolve(Vocabulary.build("--team", []), ["East"])


@given(st.lists(st.text(max_size=30), max_size=3))
def test_resolve_returns_known_values_or_raises_filter_error(given_values: list[str]) -> None:
    competitors = competitor_vocabulary([CONTOSO], ["Globex"])
    known = {"Contoso Suite", "Globex"}
    try:
        values, _ = resolve(competitors, given_values)
    except FilterError as exc:
        assert "\n" not in str(exc)
        return
    assert set(values) <= known


@given(
    st.sampled_from(
        [(o.label, o.reason) for k in ("disposition", "winloss") for o in TAXONOMY.kind(k).options]
    ),
    st.lists(st.booleans(), min_size=30, max_size=30),
)
def test_every_label_in_any_case_is_its_code(pair: tuple[str, str], upper: list[bool]) -> None:
    label, code = pair
    cased = "".join(c.upper() if u else c.lower() for c, u in zip(label, upper, strict=False))
    assert code in resolve(VOCAB["reasons"], [cased + label[len(cased) :]])[0]


def test_resolve_filters_keeps_fields_without_a_vocabulary() -> None:
    filters = Filters(outcomes=("Won",), campaigns=("anything",))
    resolved, notes = resolve_filters(filters, VOCAB)
    assert resolved.outcomes == ("won",) and resolved.campaigns == ("anything",) and notes == ()


# against the database, through the CLI ---------------------------------------------------------


@pytest.fixture(scope="module", params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    yield from seeded_engine(request.param, tmp_path_factory)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "feedback.toml"
    path.write_text('[[competitors]]\nname = "Contoso Suite"\naliases = ["contoso"]\n', encoding="utf-8")
    return path


def _run(engine: Engine, config: Path, *args: str) -> Any:
    from cli.main import app

    env = {
        "FEEDBACK_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "FEEDBACK_SECRET": "x" * 32,
    }
    return CliRunner().invoke(app, ["report", *args, "--config", str(config)], env=env)


def _crm_ids(engine: Engine, config: Path, *args: str) -> set[str]:
    result = _run(engine, config, "verbatims", "-f", "json", *args)
    assert result.exit_code == 0, result.output
    return {r["crm_id"] for r in json.loads(result.stdout)["sections"][0]["rows"]}


def test_filters_by_label_alias_and_case(engine: Engine, config: Path) -> None:
    assert _crm_ids(engine, config, "--reason", "Not a fit") == {"L-3", "L-5", "L-7"}
    assert _crm_ids(engine, config, "--outcome", "Lost") == {"D-2", "D-3"}
    assert _crm_ids(engine, config, "--competitor", "contoso") == {"D-2", "D-3"}
    assert _crm_ids(engine, config, "--campaign", "webinar", "--kind", "winloss") == {"D-1", "D-2"}
    assert _crm_ids(engine, config, "--rep", "CAROL", "--team", "west") == {"L-5", "L-6", "D-3"}
    # a valid value with no answers is an empty report, not an error
    assert _crm_ids(engine, config, "--reason", "Not a buyer") == set()
    result = _run(engine, config, "competitors", "-f", "json", "--competitor", "Contsoo")
    assert result.exit_code == 0, result.output
    assert "read --competitor 'Contsoo' as Contoso Suite" in " ".join(result.stderr.split())
    rows = json.loads(result.stdout)["sections"][0]["rows"]
    assert [r["competitor"] for r in rows] == ["Contoso Suite"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["verbatims", "--outcome", "bogus"], "valid: accepted, rejected, recycled, won, lost, no_decision"),
        (
            ["summary", "--campaign", "Nope"],
            "--campaign 'Nope' matches nothing; valid: (none), Ebook, PPC, Webinar",
        ),
        (["trends", "--source", "tv"], "valid: (none), ads, content, events"),
        (["responsiveness", "--team", "North"], "valid: (none), East, West"),
        (["export", "--competitor", "Initech Corp"], "valid: Contoso Suite, Fabrikam, Initech"),
        (["funnel", "--rep", "erin@example.com"], "valid: Alice, alice@example.com, Bob,"),
    ],
)
def test_unknown_values_exit_2_with_the_valid_ones(
    engine: Engine, config: Path, args: list[str], expected: str
) -> None:
    result = _run(engine, config, *args)
    assert result.exit_code == 2, result.output
    said = " ".join(result.stderr.split())
    assert said.startswith("error: ") and said.count("error:") == 1 and "Traceback" not in said
    assert expected in said


def test_known_values_come_from_the_database(engine: Engine) -> None:
    found = known_values(engine, ["campaigns", "teams", "competitors", "reps", "segments"])
    assert found["campaigns"] == ["(none)", "Ebook", "PPC", "Webinar"]
    assert found["teams"] == ["(none)", "East", "West"]
    assert found["competitors"] == ["Contoso Suite", "Fabrikam", "Initech"]  # superseded answers too
    assert {"alice@example.com", "Alice"} <= set(found["reps"])
    assert found["segments"] == ["(none)", "Enterprise", "SMB"]
