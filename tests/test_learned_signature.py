"""A rep's own signature, learned from their earlier replies (issue 16 item 5).

Pure learning and stripping, then the worker on a real database (SQLite, or PostgreSQL when
FEEDBACK_TEST_DATABASE_URL is set): the house signature goes from the rep's third reply on.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from feedback.ingress.store import Incoming, store_batch
from feedback.mail import parse_message
from feedback.mail.learned_signature import LearnedSignature, learn, learning_text, strip_learned
from feedback.outbound.requesting import send_due_requests
from feedback.outbound.transports import MaildirTransport
from feedback.runtime.settings import Settings
from feedback.services.erase import erase
from feedback.services.processing import process_message
from feedback.storage.models import FeedbackRequest, Lead, Rep, RepSignature, Response, utcnow

# a house signature the generic rules cannot see: no "--", no sign-off, no name line
HOUSE = (
    "Brightline Systems — software that keeps its promises.\n"
    "Unit 4, 17 Harbour Street, Leeds LS1 4AB, United Kingdom\n"
    "Brightline Systems Ltd is registered in England and Wales under no. 01234567."
)
ANSWERS = (
    "Lost, the budget got cut.",
    "Won it, they liked the onboarding plan.",
    "No decision yet, they meet on Friday.",
    "Lost",
)


def _mail(text: str, sender: str = "dana@brightline.example") -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Dana Whitfield <{sender}>"
    msg["To"] = "feedback@feedback.example"
    msg["Subject"] = "Re: What happened?"
    msg.set_content(
        f"{text}\n\nOn Mon, 2 Mar 2026 at 09:14, Feedback <f@feedback.example> wrote:\n> How did it go?\n"
    )
    return msg.as_bytes()


def _learned_after(bodies: list[str]) -> LearnedSignature | None:
    learned: LearnedSignature | None = None
    for body in bodies:
        p = parse_message(_mail(body), learned_signature=learned)
        learned = learn(learned, learning_text(p.reply_text, p.signature))
    return learned


def test_the_generic_rules_miss_the_house_signature() -> None:
    assert HOUSE.split("\n")[0] in (parse_message(_mail(f"{ANSWERS[0]}\n\n{HOUSE}")).reply_text or "")


def test_house_signature_is_stripped_from_the_third_reply_on() -> None:
    learned: LearnedSignature | None = None
    replies = []
    for answer in ANSWERS:
        p = parse_message(_mail(f"{answer}\n\n{HOUSE}"), learned_signature=learned)
        replies.append(p.reply_text)
        learned = learn(learned, learning_text(p.reply_text, p.signature))
    assert HOUSE.split("\n")[1] in (replies[0] or "") and HOUSE.split("\n")[1] in (replies[1] or "")
    assert replies[2:] == [ANSWERS[2], ANSWERS[3]]  # "Lost" above the signature is the answer


def test_learning_keeps_only_hashes_of_lines_that_did_not_recur() -> None:
    learned = _learned_after([f"Lost, the budget got cut.\n\n{HOUSE}"])
    assert learned is not None and learned.lines == ()
    assert "budget" not in json.dumps([list(s) for s in learned.samples])


def test_a_reply_that_equals_part_of_the_signature_is_kept() -> None:
    learned = _learned_after([f"{a}\n\n{HOUSE}" for a in ANSWERS[:2]])
    part = "\n".join(HOUSE.split("\n")[:2])
    p = parse_message(_mail(part), learned_signature=learned)
    assert p.reply_text == part
    assert strip_learned(part, None, learned) == (part, None)


def test_a_short_last_line_that_is_a_learned_line_stays() -> None:
    learned = LearnedSignature(lines=("Lost", "No.", "Brightline Systems"))
    assert strip_learned("We talked on Friday.\nLost", None, learned)[0] == "We talked on Friday.\nLost"
    assert strip_learned("We talked on Friday.\n\nNo.", None, learned)[0].endswith("No.")
    # a part of the signature with the answer above it still goes
    body, sig = strip_learned(
        "Won.\n\n" + HOUSE, "Sent from my iPhone", _learned_after([f"{a}\n\n{HOUSE}" for a in ANSWERS[:2]])
    )
    assert body == "Won." and sig == HOUSE + "\nSent from my iPhone"


def test_mobile_replies_without_the_signature_do_not_teach_their_answer() -> None:
    learned = _learned_after(["Lost.\nSent from my iPhone", "Lost.\nSent from my iPhone", "Won.\nThanks"])
    assert learned is not None and learned.lines == ()


# --- the worker, on the database


def _world(
    engine: Engine, settings: Settings, tmp_path: Path, leads: int
) -> tuple[Settings, list[FeedbackRequest]]:
    with Session(engine) as s:
        rep = Rep(email="dana@brightline.example", name="Dana Whitfield")
        s.add(rep)
        s.commit()
        for i in range(leads):
            s.add(
                Lead(
                    crm_id=f"L{i}",
                    name=f"Peter Hoffmann {i}",
                    company="Globex",
                    rep_id=rep.id,
                    assigned_at=utcnow() - timedelta(hours=1),
                )
            )
        s.commit()
    settings = settings.model_copy(update={"send_since": datetime(2020, 1, 1), "daily_cap_per_rep": 100})
    asyncio.run(send_due_requests(engine, settings, MaildirTransport(tmp_path / "outbox")))
    with Session(engine) as s:
        requests = list(s.exec(select(FeedbackRequest).order_by(col(FeedbackRequest.id))).all())
    assert len(requests) == leads
    return settings, requests


def _reply_to(request: FeedbackRequest, settings: Settings, text: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Dana Whitfield <dana@brightline.example>"
    msg["To"] = f"feedback+{request.token}@{settings.reply_domain}"
    msg["Subject"] = "Re: What happened to lead Peter Hoffmann (Globex)?"
    msg["Message-ID"] = f"<{request.id}-{abs(hash(text))}@brightline.example>"
    msg["In-Reply-To"] = request.message_id or ""
    msg.set_content(f"{text}\n\nOn Mon, Feedback wrote:\n> 1. Meeting booked\n> 5. No budget\n")
    return msg.as_bytes()


def test_worker_learns_the_reps_signature_and_erase_forgets_it(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    settings, requests = _world(engine, settings, tmp_path, 3)
    texts = [
        f"{a}\n\n{HOUSE}"
        for a in ("Rejected, no budget.", "Duplicate of an existing lead.", "Accepted, meeting booked.")
    ]
    for request, text in zip(requests, texts, strict=True):
        raw = _reply_to(request, settings, text)
        mid = store_batch(
            engine,
            [
                Incoming(
                    raw=raw,
                    mail_from="dana@brightline.example",
                    rcpt_to=(f"feedback+{request.token}@{settings.reply_domain}",),
                    peer="127.0.0.1",
                    received_at=utcnow(),
                )
            ],
        )[0].id
        assert process_message(engine, settings, mid).status == "processed"
    with Session(engine) as s:
        replies = [
            s.exec(select(Response).where(Response.request_id == r.id)).one().reply_text for r in requests
        ]
        row = s.exec(select(RepSignature)).one()
        assert row.messages == 3 and json.loads(row.lines) == HOUSE.split("\n")
    assert "Harbour Street" in replies[0] and "Harbour Street" in replies[1]
    assert replies[2] == "Accepted, meeting booked."
    with Session(engine) as s:
        out = erase(s, rep="dana@brightline.example")
        s.commit()
        assert out.touched["rep_signature"] == 1
        assert s.exec(select(RepSignature)).first() is None


# --- properties: whatever was learned, the reply is never emptied and a short answer stays

_line = st.text(alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Nd", "Zs", "Po")), max_size=40)


@settings(max_examples=150, deadline=None)
@given(body=st.lists(_line, min_size=1, max_size=8), learned=st.lists(_line, max_size=10), pick=st.data())
def test_stripping_never_empties_a_reply(body: list[str], learned: list[str], pick: st.DataObject) -> None:
    text = "\n".join(body)
    extra = pick.draw(st.lists(st.sampled_from(body), max_size=4))  # learned lines that are in it
    out, _ = strip_learned(text, None, LearnedSignature(lines=(*learned, *extra)))
    if text.strip():
        assert out.strip()
        first = next(x.strip() for x in text.split("\n") if x.strip())
        assert next(x.strip() for x in out.split("\n") if x.strip()) == first


@settings(max_examples=100, deadline=None)
@given(answer=st.sampled_from(["No.", "Lost", "Won", "OK", "Rejected", "Duplicate lead"]))
def test_a_short_answer_under_the_text_is_never_learned_away(answer: str) -> None:
    learned = _learned_after([f"Context first.\n{answer}"] * 3)
    assert learned is not None and learned.lines == ()
    assert strip_learned(f"More context.\n{answer}", None, LearnedSignature(lines=(answer,)))[0].endswith(
        answer
    )


def test_one_learned_line_alone_is_kept_unless_it_is_contact() -> None:
    learned = LearnedSignature(lines=("5. No budget this year", "Brightline Systems", "+44 113 496 0000"))
    assert strip_learned("Sorry for the delay.\n5. No budget this year", None, learned)[0].endswith("year")
    assert strip_learned("Sorry for the delay.\n+44 113 496 0000", None, learned) == (
        "Sorry for the delay.",
        "+44 113 496 0000",
    )


def test_the_same_answer_pasted_twice_is_not_learned() -> None:
    answer = "Rejected.\nNo budget this year.\nThey went with Proseware BI instead."
    learned = _learned_after([answer, answer])
    assert learned is not None and learned.lines == ()
    p = parse_message(_mail(answer), learned_signature=learned)
    assert p.reply_text == answer
