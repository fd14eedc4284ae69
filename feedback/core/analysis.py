"""The pure pipeline: raw bytes -> parsed message -> classification -> one report.

Used by the worker (with the request's own taxonomy and learned corrections) and by
``feedback parse`` (current taxonomy, no service touched). No I/O here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from feedback.classify import ClassificationResult, LearnedExamples, classify
from feedback.core.competitor_list import Competitor
from feedback.core.taxonomy import Taxonomy, default_taxonomy
from feedback.core.tokens import find_token
from feedback.mail import ParsedMessage, parse_message


@dataclass(frozen=True, slots=True)
class AnalysisConfig:
    """What classification needs besides the message."""

    taxonomy: Taxonomy = field(default_factory=default_taxonomy)
    competitors: tuple[Competitor, ...] = ()
    reply_local: str = "feedback"
    learned: LearnedExamples | None = None
    people: tuple[str, ...] = ()  # the reps' names: colleagues a reply may name, no competitors


@dataclass(frozen=True, slots=True)
class Analysis:
    parsed: ParsedMessage
    token: str | None
    result: ClassificationResult | None  # None unless the message is a reply

    def to_json(self, *, file: str | None = None) -> dict[str, Any]:
        """The ``feedback parse --json`` object (design.md, "Public surfaces")."""
        p, r = self.parsed, self.result
        is_reply = p.classification == "reply"
        out: dict[str, Any] = {
            "file": file,
            "message_id": p.message_id,
            "classification": p.classification,
            "token": self.token,
            "reply_text": p.reply_text if is_reply else None,
            "signature": p.signature if is_reply else None,
            "outcome": r.outcome if r else None,
            "reasons": list(r.reasons) if r else [],
            "competitor": r.competitor if r else None,
            "confidence": round(r.confidence, 3) if r else 0.0,
            "needs_review": r.needs_review if r else False,
            "competitor_listed": r.competitor_listed if r else False,
            "error": p.error,
            "from": p.from_addr,
            "subject": p.subject,
            "language": p.language,
            "attachments": p.attachments,
            "auto_reason": p.auto_reason,
        }
        if p.bounce is not None:
            out["bounce"] = {
                "recipient": p.bounce.recipient,
                "status": p.bounce.status,
                "action": p.bounce.action,
                "diagnostic": p.bounce.diagnostic,
                "original_message_id": p.bounce.original_message_id,
            }
        return out


def classify_parsed(
    parsed: ParsedMessage, *, kind: str, config: AnalysisConfig
) -> ClassificationResult | None:
    """Classify a parsed reply's own text; auto-replies, bounces and unreadables get None."""
    if parsed.classification != "reply":
        return None
    return classify(
        parsed.reply_text or "",
        kind=kind,
        taxonomy=config.taxonomy,
        competitors=config.competitors,
        learned=config.learned,
        people=config.people,
    )


def analyse(
    raw: bytes, *, kind: str, config: AnalysisConfig | None = None, envelope_recipients: Sequence[str] = ()
) -> Analysis:
    """Parse and classify one raw message."""
    config = config or AnalysisConfig()
    parsed = parse_message(raw)
    addresses = list(envelope_recipients) + list(parsed.recipients)
    if parsed.bounce is not None:
        addresses += list(parsed.bounce.original_recipients)
    token = find_token(addresses, local=config.reply_local)
    return Analysis(parsed=parsed, token=token, result=classify_parsed(parsed, kind=kind, config=config))
