"""The demo's world: eight weeks of CRM history and how each rep answers (pure, seeded).

``feedback demo`` imports what :func:`build_world` writes as CRM CSV exports, then replays the
weeks on a simulated clock (``cli/demo_cmd.py``): requests go out when a lead is assigned or a
deal closes, reps answer after realistic delays (some only after a reminder, one only after a
clarification, a few never, their manager after the escalation), and every answer agrees with
the CRM except the deliberate one the win/loss report should flag. So every report the demo
prints is one worth showing a marketer: trends over weeks, a funnel where each stage is a subset
of the one before, two currencies, medians that are not zero.
"""

from __future__ import annotations

import csv
import io
import random
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from importlib import resources
from pathlib import Path
from typing import TypeVar

WEEKS = 8

#: what reps write, by (kind, outcome, primary reason): every text reads as its key (tested)
ANSWERS: dict[tuple[str, str, str], tuple[str, ...]] = {
    ("disposition", "accepted", "meeting_booked"): (
        "Accepted - demo booked for Thursday with their ops lead.",
        "Good lead, meeting set for next Tuesday with the CFO.",
    ),
    ("disposition", "accepted", "opportunity_created"): (
        "Opportunity created, they want a proposal by month end.",
    ),
    ("disposition", "accepted", "in_progress"): ("Working it, left two voicemails and waiting on a reply.",),
    ("disposition", "rejected", "not_a_fit"): ("Not a fit - a 5-person shop, and we need 200+ seats.",),
    ("disposition", "rejected", "no_budget"): ("Rejected: no budget this year.",),
    ("disposition", "rejected", "bad_data"): ("Bad data - the email bounced and the phone number is a fax.",),
    ("disposition", "rejected", "not_a_buyer"): ("Student doing research for a thesis, not a buyer.",),
    ("disposition", "rejected", "existing_customer"): (
        "Already a customer, their IT team bought us last year.",
    ),
    ("disposition", "rejected", "duplicate"): ("Duplicate of a lead I got last week.",),
    ("disposition", "recycled", "bad_timing"): (
        "Recycle please. Interested but not before Q2, they're mid-migration.",
    ),
    ("disposition", "recycled", "unresponsive"): ("Tried 4 times, no answer. Recycle.",),
    ("winloss", "won", "product_fit"): (
        "Won! They loved the forecasting module, nothing else came close on features.",
    ),
    ("winloss", "won", "integration"): ("Won, mostly because of the Salesforce integration.",),
    ("winloss", "won", "support"): ("Won thanks to the onboarding team, they were live in two weeks.",),
    ("winloss", "lost", "price"): ("Lost to Fabrikam on price, we were 30% higher.",),
    ("winloss", "lost", "missing_feature"): ("Lost, missing SSO and audit logs.",),
    ("winloss", "lost", "security_compliance"): (
        "Lost - failed their security review, we don't have SOC 2 Type II yet.",
    ),
    ("winloss", "lost", "champion_left"): (
        "Lost. Our champion left the company and the new VP went with Contoso.",
    ),
    ("winloss", "no_decision", "budget_frozen"): ("No decision - budget frozen until the reorg is done.",),
    ("winloss", "no_decision", "went_dark"): (
        "They went dark after the proposal, no reply to 5 follow-ups.",
    ),
}

#: a first reply with no outcome in it (the rep is asked to clarify, then answers)
UNCLEAR = "Which one is this? Let me check my notes and come back to you."

#: how often each disposition happens (weights), and how win/loss answers split per CRM result
DISPOSITIONS = {
    ("accepted", "meeting_booked"): 9,
    ("accepted", "opportunity_created"): 6,
    ("accepted", "in_progress"): 3,
    ("rejected", "not_a_fit"): 4,
    ("rejected", "no_budget"): 3,
    ("rejected", "bad_data"): 2,
    ("rejected", "not_a_buyer"): 2,
    ("rejected", "existing_customer"): 1,
    ("rejected", "duplicate"): 1,
    ("recycled", "bad_timing"): 3,
    ("recycled", "unresponsive"): 2,
}
WON = {("won", "product_fit"): 3, ("won", "integration"): 2, ("won", "support"): 2}
LOST = {
    ("lost", "price"): 3,
    ("lost", "missing_feature"): 2,
    ("lost", "security_compliance"): 1,
    ("lost", "champion_left"): 1,
    ("no_decision", "budget_frozen"): 1,
    ("no_decision", "went_dark"): 1,
}

CAMPAIGNS = (
    ("Q4 Webinar - Pipeline Analytics", "Web"),
    ("Autumn Trade Show 2026", "Event"),
    ("ABM Enterprise Push", "Outbound"),
    ("Ops Guide Content Syndication", "Paid Search"),
)
COMPANIES = (
    "Northwind Logistics", "Bluepeak Analytics", "Cedar & Finch Legal", "Harborview Health",
    "Quillstone Publishing", "Ironbark Mining", "Lumen Retail", "Saffron Foods", "Tidewater Marine",
    "Crescent Dental", "Granite Ridge Bank", "Kestrel Aviation", "Maplewood Schools", "Orchid Hotels",
    "Pinecrest Insurance", "Redwood Utilities", "Silverline Telecom", "Tangerine Media",
    "Umbra Security", "Vantage Energy", "Willow Pharma", "Zephyr Travel", "Atlas Freight",
    "Beacon Labs", "Cobalt Systems", "Driftwood Homes", "Ember Studios", "Fjord Shipping",
)  # fmt: skip
FIRST = ("Hannah", "Ethan", "Olivia", "Noah", "Mia", "Lucas", "Ava", "Leo", "Chloe", "Jonas", "Ines", "Marek")
LAST = ("Cole", "Park", "Grant", "Reyes", "Schmidt", "Dubois", "Novak", "Berg", "Costa", "Moreau", "Hale")
TITLES = ("VP Operations", "Head of RevOps", "CFO", "IT Director", "Sales Ops Manager", "COO")


@dataclass(frozen=True)
class Behaviour:
    """How a rep (or their manager) deals with one request."""

    answer: str  # the text that carries the answer
    outcome: str
    reason: str
    way: str  # prompt | late (after a reminder) | unclear (first reply) | manager | silent
    delay_hours: float  # from the request (prompt, late) or the clarification (unclear)


@dataclass(frozen=True)
class World:
    reps_csv: str
    leads_csv: str
    deals_csv: str
    start: datetime
    end: datetime
    #: (kind, CRM id) -> behaviour; requests without one are never answered
    behaviours: dict[tuple[str, str], Behaviour]
    deliberate_disagreements: tuple[str, ...]  # deal CRM ids whose rep contradicts the CRM


def sample_dir() -> Path:
    return Path(str(resources.files("feedback").joinpath("data/sample")))


def sample_replies() -> dict[str, list[str]]:
    data = tomllib.loads(resources.files("feedback").joinpath("data/sample/replies.toml").read_text("utf-8"))
    return {"disposition": list(data["disposition"]), "winloss": list(data["winloss"])}


K = TypeVar("K")


def _pick(rng: random.Random, weights: dict[K, int]) -> K:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _way(rng: random.Random) -> tuple[str, float]:
    """Most reps answer within a day or two; some after a reminder; a few need their manager."""
    roll = rng.random()
    if roll < 0.62:
        return "prompt", rng.uniform(1.5, 40.0)
    if roll < 0.82:
        return "late", rng.uniform(52.0, 90.0)
    if roll < 0.88:
        return "manager", rng.uniform(3.0, 20.0)  # hours after the escalation
    return "silent", 0.0


def _csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def build_world(end: datetime, *, seed: int = 7) -> World:
    """Eight weeks of leads and deals ending at ``end`` (naive UTC), and every rep's behaviour."""
    rng = random.Random(seed)
    end = end.replace(minute=0, second=0, microsecond=0)
    start = (end - timedelta(weeks=WEEKS)).replace(hour=0)
    reps_csv = (sample_dir() / "reps.csv").read_text("utf-8")
    reps = [row["name"] for row in csv.DictReader(io.StringIO(reps_csv))]
    behaviours: dict[tuple[str, str], Behaviour] = {}
    leads: list[list[str]] = []
    deals: list[list[str]] = []
    unclear_done = False
    for i in range(60):
        lead_id = f"00Q8d{i + 1:010d}AB"
        # leads arrive through the weeks, during working hours
        day = start + timedelta(days=int(i * (WEEKS * 7 - 4) / 60))
        assigned = day.replace(
            hour=rng.choice((8, 9, 10, 11, 13, 14, 15, 16)), minute=rng.choice((0, 15, 30, 45))
        )
        company = COMPANIES[i % len(COMPANIES)]
        campaign, source = CAMPAIGNS[rng.randrange(len(CAMPAIGNS))]
        owner = reps[i % len(reps)]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        leads.append(
            [
                lead_id, first, last, rng.choice(TITLES), company,
                f"{first.lower()}.{last.lower()}@{company.split()[0].lower()}.example",
                source, campaign, rng.choice(("Enterprise", "Mid-Market")), owner,
                assigned.strftime("%m/%d/%Y %I:%M %p"),
            ]
        )  # fmt: skip
        outcome, reason = _pick(rng, DISPOSITIONS)
        way, delay = _way(rng)
        if not unclear_done and way == "prompt" and i > 8:
            way, unclear_done = "unclear", True
        text = rng.choice(ANSWERS[("disposition", outcome, reason)])
        behaviours[("disposition", lead_id)] = Behaviour(text, outcome, reason, way, delay)
        # accepted leads with a meeting or an opportunity often become deals weeks later
        if outcome == "accepted" and reason != "in_progress" and rng.random() < 0.8:
            close = assigned + timedelta(days=rng.randint(12, 30), hours=rng.randint(0, 4))
            deals.append(_deal(rng, len(deals), company, owner, lead_id, close, end, behaviours))
    # deals that did not come from an accepted lead: shown beside the funnel, never in it
    for n, company in enumerate(("Granite Ridge Bank", "Kestrel Aviation")):
        close = start + timedelta(days=20 + 15 * n, hours=15)
        deals.append(_deal(rng, len(deals), company, reps[n], "", close, end, behaviours))
    rejected = next(row for row in leads if behaviours[("disposition", row[0])].outcome == "rejected")
    deals.append(
        _deal(
            rng,
            len(deals),
            rejected[4],
            rejected[9],
            rejected[0],
            start + timedelta(days=40),
            end,
            behaviours,
        )
    )
    # one deliberate contradiction: the CRM says lost, the rep says won
    closed = [d for d in deals if d[2] == "Closed lost" and ("winloss", d[0]) in behaviours]
    disagree: tuple[str, ...] = ()
    if closed:
        deal_id = closed[len(closed) // 2][0]
        behaviours[("winloss", deal_id)] = Behaviour(
            ANSWERS[("winloss", "won", "integration")][0], "won", "integration", "prompt", 6.0
        )
        disagree = (deal_id,)
    lead_header = [
        "Lead ID", "First Name", "Last Name", "Title", "Company", "Email", "Lead Source",
        "Primary Campaign Source", "Segment", "Lead Owner", "Created Date",
    ]  # fmt: skip
    deal_header = [
        "Record ID", "Deal Name", "Deal Stage", "Amount", "Currency", "Close Date", "Deal owner",
        "Associated Contact IDs",
    ]  # fmt: skip
    return World(
        reps_csv=reps_csv,
        leads_csv=_csv(lead_header, leads),
        deals_csv=_csv(deal_header, deals),
        start=start,
        end=end,
        behaviours=behaviours,
        deliberate_disagreements=disagree,
    )


def _deal(
    rng: random.Random,
    n: int,
    company: str,
    owner: str,
    lead_id: str,
    close: datetime,
    end: datetime,
    behaviours: dict[tuple[str, str], Behaviour],
) -> list[str]:
    deal_id = f"3041{2001 + n:05d}"
    european = company.split()[0] in {"Cedar", "Fjord", "Willow", "Zephyr", "Saffron", "Orchid", "Ember"}
    amount = rng.randrange(12, 90) * 1000
    if close > end:  # still open: no question yet
        return [deal_id, f"{company} - Platform", "Proposal", str(amount), "EUR" if european else "USD",
                close.strftime("%Y-%m-%d %H:%M"), owner, lead_id]  # fmt: skip
    won = rng.random() < 0.5
    outcome, reason = _pick(rng, WON if won else LOST)
    way, delay = _way(rng)
    text = rng.choice(ANSWERS[("winloss", outcome, reason)])
    behaviours[("winloss", deal_id)] = Behaviour(text, outcome, reason, way, delay)
    return [
        deal_id, f"{company} - Platform", "Closed won" if won else "Closed lost", str(amount),
        "EUR" if european else "USD", close.strftime("%Y-%m-%d %H:%M"), owner, lead_id,
    ]  # fmt: skip


def request_kind(request: EmailMessage) -> str:
    subject = str(request.get("Subject", ""))
    return "winloss" if subject.lower().startswith("closed deal") else "disposition"


def build_reply(
    request_raw: bytes,
    *,
    text: str,
    sender_name: str,
    sender: str,
    when: datetime | None = None,
) -> tuple[EmailMessage, str]:
    """A top-posted reply to ``request_raw`` (Gmail style, quote included); returns (msg, rcpt)."""
    request = message_from_bytes(request_raw, policy=policy.default)
    assert isinstance(request, EmailMessage)
    reply_to = parseaddr(str(request.get("Reply-To") or request.get("From")))[1]
    body = request.get_body(preferencelist=("plain",))
    original = body.get_content() if body is not None else ""
    quoted = "\n".join(f"> {line}" if line else ">" for line in str(original).splitlines())
    stamp = format_datetime((when or datetime.now(UTC).replace(tzinfo=None)).replace(tzinfo=UTC))
    first = sender_name.split()[0] if sender_name else ""
    reply = EmailMessage()
    reply["From"] = f"{sender_name} <{sender}>"
    reply["To"] = f"Sales Feedback <{reply_to}>"
    reply["Subject"] = "Re: " + str(request.get("Subject", ""))
    reply["Date"] = stamp
    reply["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "example")
    reply["In-Reply-To"] = str(request["Message-ID"])
    reply["References"] = str(request["Message-ID"])
    reply.set_content(
        f"{text}\n\nThanks,\n{first}\n\nOn {stamp}, Sales Feedback <{reply_to}> wrote:\n{quoted}\n"
    )
    return reply, reply_to
