"""Any stored answer can be listed, shown, corrected (who, when, previous value kept), and the
correction reaches reports at once and teaches the classifier; the review queue shows what a
quarantined mail said. Service functions directly and the CLI through CliRunner, on a real database."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from cli.main import app
from feedback.classify import LearnedExamples, classify
from feedback.core.taxonomy import default_taxonomy
from feedback.ingress.store import Incoming, store_batch
from feedback.outbound.requesting import send_due_requests
from feedback.outbound.transports import MaildirTransport
from feedback.reports import build
from feedback.reports.filters import Filters
from feedback.runtime.settings import Settings
from feedback.services.answers import (
    AnswerError,
    answer_history,
    correct_answer,
    get_answer,
    list_answers,
    resolve_competitor,
)
from feedback.services.processing import load_learned, process_message
from feedback.services.review import describe_item, resolve_item
from feedback.storage.models import (
    FeedbackRequest,
    InboundMessage,
    Lead,
    Rep,
    RequestStatus,
    Response,
    ReviewItem,
    utcnow,
)

WRONG = "Tire kicker, total waste of time."
REP = "dana@brightline.example"
OPS = "ops@brightline.example"


@pytest.fixture
def world(engine: Engine, settings: Settings, tmp_path: Path) -> tuple[Settings, list[FeedbackRequest]]:
    """Rep Dana (one alias-free address) and two sent disposition requests."""
    with Session(engine) as s:
        rep = Rep(email=REP, name="Dana Whitfield", manager_email="boss@brightline.example")
        s.add(rep)
        s.commit()
        at = utcnow() - timedelta(hours=1)
        s.add(Lead(crm_id="L1", name="Peter Hoffmann", company="Globex", rep_id=rep.id, assigned_at=at))
        s.add(Lead(crm_id="L2", name="Ana Ruiz", company="Initech", rep_id=rep.id, assigned_at=at))
        s.commit()
    settings = settings.model_copy(update={"send_since": datetime(2020, 1, 1)})
    asyncio.run(send_due_requests(engine, settings, MaildirTransport(tmp_path / "outbox")))
    with Session(engine) as s:
        requests = list(s.exec(select(FeedbackRequest).order_by(FeedbackRequest.id)).all())  # type: ignore[arg-type]
    assert len(requests) == 2
    return settings, requests


def _answer(
    engine: Engine,
    settings: Settings,
    request: FeedbackRequest,
    text: str,
    *,
    sender: str = REP,
    learned: LearnedExamples | None = None,
) -> int:
    """Deliver a reply to ``request`` and process it; returns the stored message id."""
    msg = EmailMessage()
    msg["From"] = f"Dana Whitfield <{sender}>"
    msg["To"] = f"feedback+{request.token}@{settings.reply_domain}"
    msg["Subject"] = "Re: What happened to lead Peter Hoffmann (Globex)?"
    msg["Message-ID"] = f"<{abs(hash((text, sender, request.id)))}@brightline.example>"
    msg["In-Reply-To"] = request.message_id or ""
    msg.set_content(f"{text}\n\nOn Mon, Feedback wrote:\n> 1. Meeting booked\n> 11. Bad timing\n")
    rcpt = f"feedback+{request.token}@{settings.reply_domain}"
    stored = store_batch(
        engine,
        [
            Incoming(
                raw=msg.as_bytes(), mail_from=sender, rcpt_to=(rcpt,), peer="127.0.0.1", received_at=utcnow()
            )
        ],
    )
    process_message(engine, settings, stored[0].id, learned=learned)
    return stored[0].id


def _env(settings: Settings) -> dict[str, str]:
    return {
        "FEEDBACK_DATABASE_URL": settings.resolved_database_url,
        "FEEDBACK_SECRET": "test-secret",
        "FEEDBACK_DATA_DIR": str(settings.data_dir),
    }


def _mentions(report: Any, label: str) -> int:
    """How many answers give the reason ``label`` in a reasons report (0 when none)."""
    return sum(
        int(row.get("mentions") or 0)
        for section in report.sections
        for row in section.rows
        if label in row.values()
    )


# the service --------------------------------------------------------------------------------------


def test_a_confident_wrong_answer_is_corrected_and_the_previous_value_kept(
    engine: Engine, world: tuple[Settings, list[FeedbackRequest]]
) -> None:
    settings, (request, _) = world
    _answer(engine, settings, request, WRONG)
    rid = request.id or 0
    with Session(engine) as s:
        stored = get_answer(session=s, request_id=rid)
        # the bug: stored confidently, no review item, nothing a person could have fixed
        assert (stored.current.outcome, stored.current.reasons) == ("recycled", ("early_research",))
        assert not stored.current.needs_review and s.exec(select(ReviewItem)).all() == []
        now = utcnow()
        correct_answer(
            session=s,
            settings=settings,
            request_id=rid,
            outcome="Rejected",  # labels work as well as codes
            reasons=["Not a buyer"],
            competitor=None,
            by=OPS,
            now=now,
        )
        s.commit()
        history = answer_history(session=s, request_id=rid)
        current = get_answer(session=s, request_id=rid)
        assert s.get(FeedbackRequest, rid).status == RequestStatus.answered  # type: ignore[union-attr]
    first, second = history
    assert (first.source, first.by, first.outcome, first.reasons, first.current) == (
        "reply",
        REP,
        "recycled",
        ("early_research",),
        False,
    )
    assert (second.source, second.by, second.outcome, second.reasons, second.current) == (
        "correction",
        OPS,
        "rejected",
        ("not_a_buyer",),
        True,
    )
    assert second.at == now and second.reply_text == first.reply_text == WRONG
    assert current.id == rid and current.versions == 2 and current.current.response_id == second.response_id


def test_a_correction_changes_report_figures_at_once(
    engine: Engine, world: tuple[Settings, list[FeedbackRequest]]
) -> None:
    settings, (request, _) = world
    _answer(engine, settings, request, WRONG)
    before = build.reasons(engine, Filters(kind="disposition"), settings)
    assert _mentions(before, "Not a buyer") == 0 and _mentions(before, "Early research") >= 1
    with Session(engine) as s:
        correct_answer(
            session=s,
            settings=settings,
            request_id=request.id or 0,
            outcome="rejected",
            reasons=["not_a_buyer"],
            by=OPS,
            now=utcnow(),
        )
        s.commit()
    after = build.reasons(engine, Filters(kind="disposition"), settings)
    assert _mentions(after, "Not a buyer") == 1 and _mentions(after, "Early research") == 0
    exported = build.export(engine, Filters(), settings).sections[0].rows
    assert [(r["crm_lead_id"], r["outcome"], r["primary_reason"]) for r in exported] == [
        ("L1", "rejected", "not_a_buyer")
    ]


def test_a_correction_teaches_the_classifier(
    engine: Engine, world: tuple[Settings, list[FeedbackRequest]]
) -> None:
    settings, (first, second) = world
    _answer(engine, settings, first, WRONG)
    with Session(engine) as s:
        correct_answer(
            session=s,
            settings=settings,
            request_id=first.id or 0,
            outcome="rejected",
            reasons=["not_a_buyer"],
            by=OPS,
            now=utcnow(),
        )
        s.commit()
        learned = load_learned(s)
    assert [(e.text, e.outcome, e.reasons) for e in learned.examples] == [
        (WRONG, "rejected", ("not_a_buyer",))
    ]
    later = "Tire kicker, no budget anyway"  # new wording with the corrected phrase
    plain = classify(later, kind="disposition", taxonomy=settings.taxonomy)
    assert plain.outcome == "recycled"  # the shipped reading, without what was learned
    taught = classify(later, kind="disposition", taxonomy=settings.taxonomy, learned=learned)
    assert (taught.outcome, taught.reasons[:1]) == ("rejected", ("not_a_buyer",))
    # and the worker, given the learned examples, stores the later reply that way
    _answer(engine, settings, second, "Another tire kicker, nothing there.", learned=learned)
    with Session(engine) as s:
        stored = get_answer(session=s, request_id=second.id or 0).current
    assert (stored.outcome, stored.reasons[:1], stored.source) == ("rejected", ("not_a_buyer",), "reply")


def test_values_are_checked_against_the_requests_kind(
    engine: Engine, world: tuple[Settings, list[FeedbackRequest]]
) -> None:
    settings, (request, _) = world
    _answer(engine, settings, request, WRONG)
    rid = request.id or 0
    cases = [
        ({"outcome": "won"}, "'won' is not a disposition outcome; valid: accepted, rejected, recycled"),
        (
            {"outcome": "rejected", "reasons": ["bad_timing"]},
            "'bad_timing' is a recycled reason, not a rejected",
        ),
        ({"outcome": "rejected", "reasons": ["price"]}, "'price' is not a disposition reason; valid: "),
        ({"outcome": None}, "nothing to change"),
    ]
    with Session(engine) as s:
        for kwargs, message in cases:
            with pytest.raises(AnswerError, match=message.replace("(", r"\(")):
                correct_answer(session=s, settings=settings, request_id=rid, by=OPS, now=utcnow(), **kwargs)
        with pytest.raises(AnswerError, match="no request #999"):
            correct_answer(
                session=s, settings=settings, request_id=999, outcome="rejected", by=OPS, now=utcnow()
            )
        s.rollback()
        assert len(answer_history(session=s, request_id=rid)) == 1  # nothing was written


def test_a_reason_implies_its_outcome_and_unchanged_values_are_kept(
    engine: Engine, world: tuple[Settings, list[FeedbackRequest]]
) -> None:
    settings, (request, _) = world
    _answer(engine, settings, request, "Rejected, they went with contoso, no budget.")
    rid = request.id or 0
    with Session(engine) as s:
        start = get_answer(session=s, request_id=rid).current
        assert start.outcome == "rejected"
        now = utcnow()
        correct_answer(
            session=s, settings=settings, request_id=rid, outcome=None, competitor="Fabrikam", by=OPS, now=now
        )
        kept = get_answer(session=s, request_id=rid).current
        assert (kept.outcome, kept.reasons, kept.competitor) == (
            start.outcome,
            start.reasons,
            "Fabrikam Analytics",
        )
        correct_answer(
            session=s,
            settings=settings,
            request_id=rid,
            outcome=None,
            reasons=["bad timing"],
            by=OPS,
            now=now,
        )
        moved = get_answer(session=s, request_id=rid).current
        assert (moved.outcome, moved.reasons) == ("recycled", ("bad_timing",))
        s.commit()


def test_competitor_names_resolve_to_the_configured_list(settings: Settings) -> None:
    assert resolve_competitor(settings, "contoso") == "Contoso Suite"
    assert resolve_competitor(settings, "CONTOSSO SUITE") == "Contoso Suite"  # a typo of a listed name
    assert resolve_competitor(settings, "fab") == "Fabrikam Analytics"
    assert resolve_competitor(settings, "  Brightwave  ") == "Brightwave"  # unlisted: as written
    assert resolve_competitor(settings, "none") is None


def test_a_correction_resolves_the_open_review_item(
    engine: Engine, world: tuple[Settings, list[FeedbackRequest]]
) -> None:
    settings, (request, _) = world
    _answer(engine, settings, request, "Won but also lost, no idea.")
    rid = request.id or 0
    with Session(engine) as s:
        items = s.exec(select(ReviewItem)).all()
        if not items:  # the classifier was sure: queue it by hand
            response = s.exec(select(Response)).one()
            s.add(ReviewItem(type="response", response_id=response.id, request_id=rid))
            s.commit()
        correct_answer(session=s, settings=settings, request_id=rid, outcome="accepted", by=OPS, now=utcnow())
        s.commit()
        item = s.exec(select(ReviewItem)).one()
    assert (item.status, item.resolved_by) == ("resolved", OPS)


def test_review_set_is_the_same_correction(
    engine: Engine, world: tuple[Settings, list[FeedbackRequest]]
) -> None:
    settings, (request, _) = world
    _answer(engine, settings, request, WRONG)
    with Session(engine) as s:
        response = s.exec(select(Response)).one()
        item = ReviewItem(type="response", response_id=response.id, request_id=request.id)
        s.add(item)
        s.commit()
        _, new = resolve_item(
            session=s, settings=settings, item_id=item.id or 0, outcome="rejected", reasons=("not_a_buyer",),
            by=OPS, now=utcnow(),
        )  # fmt: skip
        s.commit()
        history = answer_history(session=s, request_id=request.id or 0)
        learned = load_learned(s)
    assert [(v.source, v.by) for v in history] == [("reply", REP), ("review", OPS)]
    assert new.reply_text == WRONG and [e.reasons for e in learned.examples] == [("not_a_buyer",)]


def test_listing_filters(engine: Engine, world: tuple[Settings, list[FeedbackRequest]]) -> None:
    settings, (first, second) = world
    _answer(engine, settings, first, WRONG)
    _answer(engine, settings, second, "Accepted, demo booked for Tuesday.")
    with Session(engine) as s:
        everything = list_answers(session=s, settings=settings)
        assert [a.id for a in everything] == [second.id, first.id]  # newest first
        assert [a.id for a in list_answers(session=s, settings=settings, outcome="Recycled")] == [first.id]
        assert list_answers(session=s, settings=settings, kind="winloss") == []
        assert len(list_answers(session=s, settings=settings, rep="Dana Whitfield")) == 2
        assert list_answers(session=s, settings=settings, since=utcnow() + timedelta(minutes=1)) == []
        for bad, message in [
            ({"rep": "nobody@x"}, "no rep 'nobody@x'; valid \\(closest\\): "),
            ({"outcome": "bogus"}, "'bogus' is not an outcome; valid: accepted"),
            ({"kind": "deals"}, "'deals' is not a kind; valid: disposition, winloss"),
        ]:
            with pytest.raises(AnswerError, match=message):
                list_answers(session=s, settings=settings, **bad)


# the CLI ------------------------------------------------------------------------------------------


def test_answers_cli_list_show_set_history(
    engine: Engine, world: tuple[Settings, list[FeedbackRequest]]
) -> None:
    settings, (request, _) = world
    _answer(engine, settings, request, WRONG)
    env, runner, rid = _env(settings), CliRunner(), str(request.id)
    for fmt in ("table", "csv", "json", "md", "html"):
        listed = runner.invoke(
            app, ["answers", "list", "--format", fmt, "--rep", REP, "--kind", "disposition"], env=env
        )
        assert listed.exit_code == 0, listed.output
        assert listed.output.count("Answers") or fmt != "table"  # a wide table: columns may be cut at 80
        assert "early_research" in listed.output or fmt == "table"
    csv_out = runner.invoke(app, ["answers", "list", "-f", "csv"], env=env).output
    assert ",early_research," in csv_out and "['" not in csv_out  # a list is a cell, not a repr
    rows = json.loads(runner.invoke(app, ["answers", "list", "-f", "json", "--since", "1d"], env=env).output)
    assert [(r["id"], r["outcome"], r["source"], r["by"]) for r in rows] == [
        (request.id, "recycled", "reply", REP)
    ]
    shown = runner.invoke(app, ["answers", "show", rid], env=env)
    assert shown.exit_code == 0, shown.output
    for needle in (WRONG, "recycled", "early_research", "confidence", REP, "lead Peter Hoffmann (Globex)"):
        assert needle in shown.output
    done = runner.invoke(
        app,
        ["answers", "set", rid, "--outcome", "rejected", "--reason", "not_a_buyer", "--by", OPS],
        env=env,
    )
    assert done.exit_code == 0, done.output
    assert "recycled (early_research) -> rejected (not_a_buyer)" in done.output
    versions = json.loads(runner.invoke(app, ["answers", "history", rid, "-f", "json"], env=env).output)
    assert [(v["version"], v["source"], v["by"], v["outcome"], v["current"]) for v in versions] == [
        (1, "reply", REP, "recycled", False),
        (2, "correction", OPS, "rejected", True),
    ]
    table = runner.invoke(app, ["answers", "history", rid], env=env)
    assert table.exit_code == 0 and "History of answer" in table.output
    md = runner.invoke(app, ["answers", "history", rid, "-f", "md"], env=env)
    assert md.exit_code == 0 and "| 2 |" in md.output and "correction" in md.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["set", "{id}", "--outcome", "won"],
            "'won' is not a disposition outcome; valid: accepted, rejected, recycled",
        ),
        (
            ["set", "{id}", "--outcome", "rejected", "-r", "nope"],
            "'nope' is not a disposition reason; valid: ",
        ),
        (["set", "{id}"], "nothing to change: pass --outcome, --reason or --competitor"),
        (["set", "999", "--outcome", "rejected"], "no request #999"),
        (["show", "999"], "no request #999"),
        (["history", "999"], "no request #999"),
        (["list", "--rep", "nobody"], "no rep 'nobody'; valid (closest): "),
        (["list", "--outcome", "bogus"], "'bogus' is not an outcome; valid: "),
        (["list", "--since", "someday"], "cannot read the date 'someday'"),
    ],
)
def test_answers_cli_wrong_input_is_one_line_and_exit_2(
    engine: Engine, world: tuple[Settings, list[FeedbackRequest]], args: list[str], expected: str
) -> None:
    settings, (request, _) = world
    _answer(engine, settings, request, WRONG)
    result = CliRunner().invoke(
        app, ["answers", *(a.replace("{id}", str(request.id)) for a in args)], env=_env(settings)
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0], result.output
    assert "Traceback" not in result.output


def test_review_show_on_quarantined_mail_shows_what_was_written(
    engine: Engine, world: tuple[Settings, list[FeedbackRequest]]
) -> None:
    settings, (request, _) = world
    mid = _answer(
        engine, settings, request, "Rejected - they are a student project.", sender="boss@brightline.example"
    )
    with Session(engine) as s:
        assert s.get(InboundMessage, mid).status == "quarantined"  # type: ignore[union-attr]
        item = s.exec(select(ReviewItem)).one()
        row = describe_item(s, item, full=True)
    assert row["from"] == "Dana Whitfield <boss@brightline.example>"
    assert row["subject"] == "Re: What happened to lead Peter Hoffmann (Globex)?"
    assert row["reply"] == "Rejected - they are a student project."  # the quote is not part of it
    env, runner = _env(settings), CliRunner()
    shown = runner.invoke(app, ["review", "show", str(item.id)], env=env)
    assert shown.exit_code == 0, shown.output
    for needle in ("boss@brightline.example", "Re: What happened to lead", "they are a student project"):
        assert needle in shown.output
    assert "Meeting booked" not in shown.output
    listed = runner.invoke(app, ["review", "list", "-f", "json"], env=env)
    assert json.loads(listed.output)[0]["reply"] == "Rejected - they are a student project."
    # resolving it records the mail's words as the answer and takes the message out of quarantine
    done = runner.invoke(app, ["review", "set", str(item.id), "--outcome", "rejected", "-r", "Not a buyer",
                               "--by", OPS], env=env)  # fmt: skip
    assert done.exit_code == 0, done.output
    with Session(engine) as s:
        current = get_answer(session=s, request_id=request.id or 0).current
        message = s.get(InboundMessage, mid)
    assert (current.source, current.outcome, current.reasons, current.by) == (
        "review",
        "rejected",
        ("not_a_buyer",),
        OPS,
    )
    assert current.reply_text == "Rejected - they are a student project."
    assert message is not None and message.status == "processed"


def test_review_set_wrong_input_is_exit_2(
    engine: Engine, world: tuple[Settings, list[FeedbackRequest]]
) -> None:
    settings, _ = world
    result = CliRunner().invoke(app, ["review", "set", "42", "--outcome", "rejected"], env=_env(settings))
    assert result.exit_code == 2 and "no review item #42" in result.output
    bad_type = CliRunner().invoke(app, ["review", "list", "--type", "spam"], env=_env(settings))
    assert bad_type.exit_code == 2 and "valid: response, quarantined, unmatched" in bad_type.output


# learning (pure) ----------------------------------------------------------------------------------

T = default_taxonomy()
D = "disposition"


def test_a_shipped_cue_contradicted_by_a_short_correction_is_remapped() -> None:
    learned = LearnedExamples.from_rows([(D, WRONG, "rejected", ["not_a_buyer"], None)])
    r = classify("Classic tire kicker.", kind=D, taxonomy=T, learned=learned)
    assert (r.outcome, r.reasons) == ("rejected", ("not_a_buyer",))
    negated = classify("Not a tire kicker, meeting booked", kind=D, taxonomy=T, learned=learned)
    assert negated.outcome == "accepted"
    # other cues of the shipped reason keep their meaning
    assert classify("Too early, just looking", kind=D, taxonomy=T, learned=learned).outcome == "recycled"


def test_a_long_correction_remaps_a_cue_only_when_seen_twice() -> None:
    long_text = (
        "Talked to them twice this month and honestly it is a tire kicker situation, nothing to do here"
    )
    once = LearnedExamples.from_rows([(D, long_text, "rejected", ["not_a_buyer"], None)])
    assert classify("tire kicker", kind=D, taxonomy=T, learned=once).reasons == ("early_research",)
    twice = LearnedExamples.from_rows(
        [
            (D, long_text, "rejected", ["not_a_buyer"], None),
            (D, "Spoke with the contact again, another tire kicker, they only wanted the pdf", "rejected",
             ["not_a_buyer"], None),
        ]
    )  # fmt: skip
    assert classify("tire kicker", kind=D, taxonomy=T, learned=twice).reasons == ("not_a_buyer",)


def test_cues_corrected_two_ways_and_outcome_words_keep_their_meaning() -> None:
    split = LearnedExamples.from_rows(
        [
            (D, "Tire kicker, waste of time.", "rejected", ["not_a_buyer"], None),
            (D, "Tire kicker honestly.", "rejected", ["no_need"], None),
        ]
    )
    assert classify("tire kicker", kind=D, taxonomy=T, learned=split).reasons == ("early_research",)
    outcome_word = LearnedExamples.from_rows([("winloss", "Won", "lost", ["price"], None)])
    assert classify("We won it", kind="winloss", taxonomy=T, learned=outcome_word).outcome == "won"


def test_review_show_and_set_on_unmatched_mail(
    engine: Engine, world: tuple[Settings, list[FeedbackRequest]]
) -> None:
    settings, (request, _) = world
    msg = EmailMessage()
    msg["From"] = f"Dana Whitfield <{REP}>"
    msg["To"] = f"feedback@{settings.reply_domain}"
    msg["Subject"] = "Re: that lead from last week"
    msg["Message-ID"] = "<lost-thread@brightline.example>"
    msg.set_content("Globex: no budget this year, rejected.\n\n-- \nDana\n")
    stored = store_batch(
        engine,
        [Incoming(raw=msg.as_bytes(), mail_from=REP, rcpt_to=(f"feedback@{settings.reply_domain}",),
                  peer="127.0.0.1", received_at=utcnow())],
    )  # fmt: skip
    assert process_message(engine, settings, stored[0].id).status == "unmatched"
    env, runner = _env(settings), CliRunner()
    with Session(engine) as s:
        item_id = str(s.exec(select(ReviewItem)).one().id)
    shown = runner.invoke(app, ["review", "show", item_id, "-f", "json"], env=env)
    row = json.loads(shown.output)[0]
    assert (row["type"], row["subject"], row["reply"]) == (
        "unmatched",
        "Re: that lead from last week",
        "Globex: no budget this year, rejected.",
    )
    assert REP in row["from"] and row["request"] is None
    orphan = runner.invoke(app, ["review", "set", item_id, "--outcome", "rejected"], env=env)
    assert orphan.exit_code == 2 and "pass --request ID" in orphan.output
    done = runner.invoke(
        app, ["review", "set", item_id, "--request", str(request.id), "-r", "no_budget", "--by", OPS], env=env
    )
    assert done.exit_code == 0, done.output
    with Session(engine) as s:
        current = get_answer(session=s, request_id=request.id or 0).current
    assert (current.outcome, current.reasons, current.reply_text) == (
        "rejected",
        ("no_budget",),
        "Globex: no budget this year, rejected.",
    )


def test_an_unanswered_request_can_be_given_an_answer(
    engine: Engine, world: tuple[Settings, list[FeedbackRequest]]
) -> None:
    """A rep who answered by phone: the answer is recorded as a correction with no reply text."""
    settings, (_, request) = world
    env, runner, rid = _env(settings), CliRunner(), str(request.id)
    missing = runner.invoke(app, ["answers", "show", rid], env=env)
    assert missing.exit_code == 2 and "has no answer yet" in missing.output
    no_outcome = runner.invoke(app, ["answers", "set", rid, "--competitor", "contoso"], env=env)
    assert no_outcome.exit_code == 2 and "has no outcome to keep; pass --outcome" in no_outcome.output
    done = runner.invoke(app, ["answers", "set", rid, "-r", "Meeting booked", "--by", OPS], env=env)
    assert done.exit_code == 0, done.output
    with Session(engine) as s:
        history = answer_history(session=s, request_id=request.id or 0)
        assert s.get(FeedbackRequest, request.id).status == RequestStatus.answered  # type: ignore[union-attr]
    assert [(v.source, v.outcome, v.reasons, v.by, v.reply_text) for v in history] == [
        ("correction", "accepted", ("meeting_booked",), OPS, "")
    ]
