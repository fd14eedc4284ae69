"""The demo loop: import samples, send requests to the outbox, answer them over real SMTP.

Pure helpers here (building a rep's reply to a request); the orchestration lives in
``cli/demo_cmd.py`` because it runs the service.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from importlib import resources
from pathlib import Path


def sample_dir() -> Path:
    return Path(str(resources.files("feedback").joinpath("data/sample")))


def sample_replies() -> dict[str, list[str]]:
    data = tomllib.loads(resources.files("feedback").joinpath("data/sample/replies.toml").read_text("utf-8"))
    return {"disposition": list(data["disposition"]), "winloss": list(data["winloss"])}


def request_kind(request: EmailMessage) -> str:
    subject = str(request.get("Subject", ""))
    return "winloss" if subject.lower().startswith("closed deal") else "disposition"


def build_reply(request_raw: bytes, *, text: str, sender_name: str, sender: str) -> tuple[EmailMessage, str]:
    """A rep's top-posted reply to ``request_raw`` (Gmail style, quote included); returns (msg, rcpt)."""
    request = message_from_bytes(request_raw, policy=policy.default)
    assert isinstance(request, EmailMessage)
    reply_to = parseaddr(str(request.get("Reply-To") or request.get("From")))[1]
    body = request.get_body(preferencelist=("plain",))
    original = body.get_content() if body is not None else ""
    quoted = "\n".join(f"> {line}" if line else ">" for line in str(original).splitlines())
    when = format_datetime(datetime.now(UTC))
    first = sender_name.split()[0] if sender_name else ""
    reply = EmailMessage()
    reply["From"] = f"{sender_name} <{sender}>"
    reply["To"] = f"Sales Feedback <{reply_to}>"
    reply["Subject"] = "Re: " + str(request.get("Subject", ""))
    reply["Date"] = when
    reply["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "example")
    reply["In-Reply-To"] = str(request["Message-ID"])
    reply["References"] = str(request["Message-ID"])
    reply.set_content(
        f"{text}\n\nThanks,\n{first}\n\nOn {when}, Sales Feedback <{reply_to}> wrote:\n{quoted}\n"
    )
    return reply, reply_to
