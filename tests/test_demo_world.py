"""The demo's world is plausible: its answers read as what they mean, and agree with the CRM."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest

from feedback.classify import classify
from feedback.runtime.demo import ANSWERS, UNCLEAR, build_world
from feedback.runtime.settings import Settings, load_settings


@pytest.fixture(scope="module")
def demo_settings() -> Settings:
    return load_settings(
        {},
        competitors=[
            {"name": "Contoso Suite", "aliases": ["contoso"]},
            {"name": "Fabrikam Analytics", "aliases": ["fabrikam"]},
        ],
    )


@pytest.mark.parametrize(("key", "text"), [(k, t) for k, texts in ANSWERS.items() for t in texts])
def test_every_demo_answer_reads_as_what_it_means(
    demo_settings: Settings, key: tuple[str, str, str], text: str
) -> None:
    kind, outcome, reason = key
    result = classify(text, kind=kind, taxonomy=demo_settings.taxonomy, competitors=demo_settings.competitors)
    assert (result.outcome, result.reasons[:1], result.needs_review) == (outcome, (reason,), False)


def test_the_unclear_reply_has_no_outcome(demo_settings: Settings) -> None:
    result = classify(UNCLEAR, kind="disposition", taxonomy=demo_settings.taxonomy)
    assert result.outcome is None and not result.needs_review


def test_the_world_spans_weeks_and_agrees_with_the_crm_but_once() -> None:
    world = build_world(datetime(2026, 12, 6, 19, 30))
    leads = list(csv.DictReader(io.StringIO(world.leads_csv)))
    deals = list(csv.DictReader(io.StringIO(world.deals_csv)))
    created = {row["Created Date"][:10] for row in leads}
    assert len(leads) == 60 and len(created) > 30  # history over weeks, not one day
    assert {d["Currency"] for d in deals} == {"USD", "EUR"}
    contradictions = []
    for deal in deals:
        b = world.behaviours.get(("winloss", deal["Record ID"]))
        if b is None:
            assert deal["Deal Stage"] not in ("Closed won", "Closed lost")  # open deals are not asked
            continue
        crm_won = deal["Deal Stage"] == "Closed won"
        if (b.outcome == "won") != crm_won:
            contradictions.append(deal["Record ID"])
    assert contradictions == list(world.deliberate_disagreements) and len(contradictions) == 1
    ways = {b.way for b in world.behaviours.values()}
    assert {"prompt", "late", "manager", "silent", "unclear"} <= ways
    assert build_world(datetime(2026, 12, 6, 19, 30)) == world  # seeded: the same every run
