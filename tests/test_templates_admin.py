"""Templates in each rep's language, admin versions (history, diff, rollback, validate) and the
checks an edit must pass; the acknowledgement repeats what was recorded. Both backends."""

from __future__ import annotations

import asyncio
import mailbox
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from cli.main import app
from feedback.core.taxonomy import load_taxonomy
from feedback.ingress.store import Incoming, store_batch
from feedback.outbound.rendering import (
    LANGUAGES,
    TEMPLATE_NAMES,
    Renderer,
    TemplateError,
    header_problem,
    option_groups,
)
from feedback.outbound.requesting import send_due_requests, send_notice
from feedback.outbound.template_store import load_renderer, sample_context
from feedback.outbound.transports import MaildirTransport
from feedback.runtime.settings import Settings
from feedback.services.processing import process_message
from feedback.storage.models import (
    Deal,
    FeedbackRequest,
    Lead,
    OutboundMail,
    Rep,
    Response,
    ResponseReason,
    TemplateOverride,
)

runner = CliRunner()
T0 = datetime(2026, 3, 2, 9, 0)


def _world(engine: Engine, settings: Settings, tmp_path: Path, language: str) -> tuple[Settings, Path]:
    with Session(engine) as s:
        rep = Rep(email="dana@brightline.example", name="Dana Weber", language=language)
        s.add(rep)
        s.commit()
        s.add(Lead(crm_id="L1", name="Peter Hoffmann", company="Globex", rep_id=rep.id, assigned_at=T0))
        s.add(Deal(crm_id="D1", name="Globex platform", rep_id=rep.id, result="lost", close_date=T0.date()))
        s.commit()
    settings = settings.model_copy(update={"send_since": datetime(2020, 1, 1), "token_ttl_days": 30})
    outbox = tmp_path / "outbox"
    assert asyncio.run(send_due_requests(engine, settings, MaildirTransport(outbox), now=T0)).sent == 2
    return settings, outbox


def _mails(outbox: Path) -> list[mailbox.MaildirMessage]:
    box = mailbox.Maildir(outbox, create=False)
    return [box[k] for k in sorted(box.keys())]


def _parts(msg: mailbox.MaildirMessage) -> dict[str, str]:
    out = {}
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            out[part.get_content_subtype()] = payload.decode(part.get_content_charset() or "utf-8")
    return out


def _reply(engine: Engine, settings: Settings, request: FeedbackRequest, text: str) -> None:
    msg = EmailMessage()
    msg["From"] = "dana@brightline.example"
    msg["To"] = f"feedback+{request.token}@{settings.reply_domain}"
    msg["Subject"] = "Re: Lead"
    msg["Message-ID"] = f"<{request.id}-{abs(hash(text))}@brightline.example>"
    msg.set_content(text + "\n")
    stored = store_batch(
        engine,
        [
            Incoming(
                raw=msg.as_bytes(),
                mail_from="dana@brightline.example",
                rcpt_to=(msg["To"],),
                peer="127.0.0.1",
                received_at=T0,
            )
        ],
    )
    process_message(engine, settings, stored[0].id, now=T0)


def test_german_rep_gets_german_request_with_german_options_and_the_german_reply_is_read(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    settings, outbox = _world(engine, settings, tmp_path, "de")
    by_subject = {m["Subject"]: _parts(m) for m in _mails(outbox)}
    lead_subject = next(s for s in by_subject if "Peter Hoffmann" in s)
    text, html = by_subject[lead_subject]["plain"], by_subject[lead_subject]["html"]
    assert "Wie ist der Stand" in lead_subject
    assert text.startswith("Hallo Dana,") and "2. März 2026" in text
    for label in ("Angenommen:", "Abgelehnt:", "Kein Budget", "Falscher Ansprechpartner"):
        assert label in text
    assert "Kein Budget" in html and "ein Satz genügt" in html and "Just hit reply" not in html
    assert "No budget" not in text and "Hi Dana" not in text
    deal_text = next(p["plain"] for s, p in by_subject.items() if "Globex platform" in s)
    assert "steht im CRM als verloren" in deal_text and "Fehlende Funktion" in deal_text
    with Session(engine) as s:
        requests = s.exec(select(FeedbackRequest)).all()
        assert all(r.template_version.startswith("de/shipped-") for r in requests)
        mails = s.exec(select(OutboundMail)).all()
        assert mails and all((m.template_version or "").startswith("de/shipped-") for m in mails)
        lead_request = next(r for r in requests if r.lead_id is not None)
    _reply(engine, settings, lead_request, "Abgelehnt, die haben kein Budget.")
    with Session(engine) as s:
        response = s.exec(select(Response).where(Response.request_id == lead_request.id)).one()
        codes = s.exec(select(ResponseReason.code).where(ResponseReason.response_id == response.id)).all()
    assert response.outcome == "rejected" and list(codes) == ["no_budget"]


def test_an_english_rep_still_gets_english(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    _, outbox = _world(engine, settings, tmp_path, "en")
    texts = [_parts(m)["plain"] for m in _mails(outbox)]
    assert all(t.startswith("Hi Dana,") for t in texts)
    assert any("No budget" in t for t in texts)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "Recorded: Lost — Price, then Integration; competitor Contoso. Reply to this mail"),
        ("de", "Erfasst: Verloren — Preis, dann Integration; Wettbewerber Contoso."),
        ("fr", "Enregistré : Perdu — Prix, puis Intégration\u202f; concurrent Contoso."),
        ("es", "Registrado: Perdido — Precio, luego Integración; competidor Contoso."),
    ],
)
def test_acknowledgement_repeats_outcome_reasons_in_order_and_competitor(
    engine: Engine, settings: Settings, tmp_path: Path, lang: str, expected: str
) -> None:
    settings, outbox = _world(engine, settings, tmp_path, lang)
    with Session(engine) as s:
        request = s.exec(select(FeedbackRequest).where(FeedbackRequest.kind == "winloss")).one()
        response = Response(request_id=request.id or 0, kind="winloss", outcome="lost", competitor="Contoso")
        s.add(response)
        s.flush()
        for rank, code in enumerate(("price", "integration")):
            s.add(ResponseReason(response_id=response.id or 0, rank=rank, code=code))
        s.commit()
        request_id = request.id or 0
    before = set(mailbox.Maildir(outbox, create=False).keys())
    sent = asyncio.run(
        send_notice(
            engine,
            settings,
            MaildirTransport(outbox),
            template="acknowledgement",
            request_id=request_id,
            subject="Re: Deal",
            now=T0,
        )
    )
    assert sent
    box = mailbox.Maildir(outbox, create=False)
    (key,) = set(box.keys()) - before
    parts = _parts(box[key])
    assert " ".join(expected.split()) in " ".join(parts["plain"].split())
    assert expected.split(": ", 1)[-1].split(".")[0].replace("\u202f", "") in parts["html"].replace(
        "\u202f", ""
    )


def test_language_fallbacks_override_then_shipped_translation_then_english() -> None:
    ctx = sample_context(load_taxonomy(), "Sales Feedback", "reminder", "de")
    renderer = Renderer(
        {
            "reminder": "{% block subject %}EN override{% endblock %}{% block text %}en{% endblock %}"
            "{% block html %}en{% endblock %}",
            "fr/reminder": "{% block subject %}FR override{% endblock %}{% block text %}fr{% endblock %}"
            "{% block html %}fr{% endblock %}",
        },
        {"reminder": "override-1", "fr/reminder": "override-2"},
    )
    assert renderer.render("reminder", ctx, lang="fr").subject == "FR override"
    german = renderer.render("reminder", ctx, lang="de-AT")
    assert german.subject.startswith("Kurze Erinnerung") and german.language == "de"
    assert german.version.startswith("de/shipped-")
    assert renderer.render("reminder", ctx, lang="it").subject == "EN override"
    assert Renderer().render("reminder", ctx, lang="it").subject.startswith("Reminder:")
    assert renderer.render("reminder", ctx, lang="fr").version == "fr/override-2"


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_every_shipped_template_exists_in_every_language_and_passes_validation(name: str, lang: str) -> None:
    taxonomy = load_taxonomy()
    ctx = sample_context(taxonomy, "Sales Feedback", name, lang)
    renderer = Renderer()
    mail = renderer.check(name, renderer.source(name, lang), ctx, lang)
    assert mail.language == lang and mail.subject and mail.text.strip() and "<p" in mail.html
    if lang != "en":
        english = renderer.render(name, sample_context(taxonomy, "Sales Feedback", name, "en"))
        assert mail.text != english.text and "Thanks" not in mail.text and "Hi Dana" not in mail.text
    if "options" in renderer.source(name, lang):
        kind = "winloss" if name.startswith("winloss") else "disposition"
        for group in option_groups(taxonomy.kind(kind), lang):
            assert all(opt["label"] in mail.text for opt in group["options"])


def test_every_taxonomy_label_has_a_german_french_and_spanish_label() -> None:
    taxonomy = load_taxonomy()
    for kt in taxonomy.kinds.values():
        for item in (kt, *kt.outcomes, *(r for o in kt.outcomes for r in o.reasons)):
            assert {"de", "fr", "es"} <= set(item.labels), item.label
    extended = load_taxonomy(
        {
            "kinds": {
                "winloss": {
                    "outcomes": [
                        {"code": "lost", "reasons": [{"code": "price", "labels": {"de": "Zu teuer"}}]}
                    ]
                }
            }
        }
    )
    price = extended.kind("winloss").reason("price")
    assert (
        price.label_in("de") == "Zu teuer"
        and price.label_in("fr") == "Prix"
        and price.label_in("nl") == "Price"
    )


# ---------------------------------------------------------------------------------------- CLI


@pytest.fixture
def env(tmp_path: Path, database_url: str, engine: Engine) -> dict[str, str]:
    config = tmp_path / "feedback.toml"
    config.write_text("")
    return {
        "FEEDBACK_DATA_DIR": str(tmp_path / "var"),
        "FEEDBACK_DATABASE_URL": database_url,
        "FEEDBACK_CONFIG": str(config),
        "FEEDBACK_SECRET": "test-secret",  # a PostgreSQL URL counts as production
        "COLUMNS": "200",
    }


def invoke(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["templates", *args], env=env)
    return result.exit_code, result.stdout + result.stderr


GOOD = (
    "{% block subject %}Kurz: {{ about }}{% endblock %}\n"
    "{% block text %}Hallo {{ rep.first_name }}, {{ about }}?{% endblock %}\n"
    "{% block html %}<p>Hallo {{ rep.first_name }}</p>{% endblock %}\n"
)


@pytest.mark.parametrize(
    ("subject", "message"),
    [
        ("Hi\nBcc: victim@example.com", "line break"),
        ("{{ 'Hi\\r\\nBcc: victim@example.com' }}", "line break"),
        ("", "renders empty"),
        ("{{ '   ' }}", "renders empty"),
    ],
)
def test_edit_and_validate_refuse_header_injection_and_empty_subjects(
    env: dict[str, str], engine: Engine, tmp_path: Path, subject: str, message: str
) -> None:
    bad = tmp_path / "reminder.j2"
    bad.write_text(GOOD.replace("Kurz: {{ about }}", subject))
    code, out = invoke(env, "edit", "reminder", "--file", str(bad), "--lang", "de")
    assert code != 0 and message in out and "Traceback" not in out
    code, out = invoke(env, "validate", str(bad))
    assert code != 0 and message in out
    with Session(engine) as s:
        assert s.exec(select(TemplateOverride)).all() == []


def test_versions_history_diff_rollback_validate_and_preview(
    env: dict[str, str], engine: Engine, tmp_path: Path
) -> None:
    first, second = tmp_path / "v1.j2", tmp_path / "v2.j2"
    first.write_text(GOOD)
    second.write_text(GOOD.replace("Hallo", "Servus"))
    code, out = invoke(env, "validate", str(first), "--name", "reminder", "--lang", "de")
    assert code == 0 and "ok" in out
    code, out = invoke(env, "preview", "reminder", "--file", str(second), "--lang", "de", "--part", "html")
    assert code == 0 and "<p>Servus Dana</p>" in out
    assert invoke(env, "edit", "reminder", "--file", str(first), "--lang", "de", "-m", "shorter")[0] == 0
    assert invoke(env, "edit", "reminder", "--file", str(second), "--lang", "de", "-m", "southern")[0] == 0
    code, out = invoke(env, "history", "reminder", "--format", "json")
    assert code == 0 and "shorter" in out and "southern" in out and '"lang": "de"' in out
    code, out = invoke(env, "diff", "reminder", "1", "2")
    assert code == 0 and "-{% block text %}Hallo" in out and "+{% block text %}Servus" in out
    with Session(engine) as s:
        renderer = load_renderer(s)
    assert renderer.version("reminder", "de") == "de/override-2"
    assert renderer.version("reminder", "en").startswith("shipped-")  # per language
    code, out = invoke(env, "rollback", "reminder", "--to", "1")
    assert code == 0 and "override-3" in out
    code, out = invoke(env, "show", "reminder", "--lang", "de")
    assert out == GOOD
    code, out = invoke(env, "history", "reminder", "--lang", "de", "--format", "json")
    assert "rollback to version 1" in out
    code, out = invoke(env, "validate", "reminder")
    assert code == 0 and out.count(": ok.") == len(LANGUAGES)
    code, out = invoke(env, "diff", "reminder", "1", "9")
    assert code != 0 and "no version 9" in out
    code, out = invoke(env, "rollback", "reminder", "--to", "9")
    assert code != 0 and "no version 9" in out
    code, out = invoke(env, "list", "--lang", "de", "--format", "json")
    assert '"version": "de/override-3"' in out
    assert invoke(env, "reset", "reminder", "--lang", "de")[0] == 0
    code, out = invoke(env, "show", "reminder", "--lang", "de")
    assert out.startswith("{% block subject %}Kurze Erinnerung")


def test_preview_a_real_lead_in_its_reps_language(env: dict[str, str], engine: Engine) -> None:
    with Session(engine) as s:
        rep = Rep(email="luis@brightline.example", name="Luis Ortega", language="es")
        s.add(rep)
        s.commit()
        s.add(Lead(crm_id="L9", name="Ana Ruiz", company="Initech", rep_id=rep.id, assigned_at=T0))
        s.commit()
    code, out = invoke(env, "preview", "disposition_request", "--lead", "L9")
    assert code == 0 and "Hola, Luis:" in out and "Ana Ruiz" in out and "Sin presupuesto" in out
    code, out = invoke(env, "preview", "disposition_request", "--lead", "L9", "--lang", "fr")
    assert code == 0 and "Bonjour Luis" in out and "2 mars 2026" in out
    code, out = invoke(env, "preview", "disposition_request", "--lead", "nope")
    assert code != 0 and "no lead" in out


def test_check_refuses_a_subject_with_a_line_break_from_a_variable() -> None:
    ctx = sample_context(load_taxonomy(), "Sales Feedback", "reminder", "en")
    source = (
        "{% block subject %}{{ rep.first_name }}\n{{ about }}{% endblock %}"
        "{% block text %}x{% endblock %}{% block html %}x{% endblock %}"
    )
    with pytest.raises(TemplateError, match="line break"):
        Renderer().check("reminder", source, ctx)


def test_a_reply_to_the_acknowledgement_corrects_the_recorded_answer(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    settings, outbox = _world(engine, settings, tmp_path, "de")
    with Session(engine) as s:
        request = s.exec(select(FeedbackRequest).where(FeedbackRequest.kind == "disposition")).one()
    _reply(engine, settings, request, "Abgelehnt, die haben kein Budget.")
    before = set(mailbox.Maildir(outbox, create=False).keys())
    notice = send_notice(
        engine,
        settings,
        MaildirTransport(outbox),
        template="acknowledgement",
        request_id=request.id or 0,
        subject="Re: Lead",
        now=T0,
    )
    assert asyncio.run(notice)
    box = mailbox.Maildir(outbox, create=False)
    (key,) = set(box.keys()) - before
    ack = box[key]
    assert "Erfasst: Abgelehnt — Kein Budget." in _parts(ack)["plain"]
    assert f"+{request.token}@" in ack["From"]  # a reply to it goes to the same request
    _reply(engine, settings, request, "Sorry, verwechselt: angenommen, Termin ist vereinbart.")
    with Session(engine) as s:
        answers = s.exec(
            select(Response).where(Response.request_id == request.id).order_by(Response.id)
        ).all()
    assert [(r.outcome, r.is_current) for r in answers] == [("rejected", False), ("accepted", True)]
    with Session(engine) as s:
        ack_row = s.exec(select(OutboundMail).where(OutboundMail.purpose == "acknowledgement")).one()
    assert (ack_row.template_version or "").startswith("de/shipped-")


@given(st.text(max_size=60))
def test_a_subject_passes_the_header_check_only_as_one_nonempty_clean_line(value: str) -> None:
    problem = header_problem("subject", value)
    clean = value.strip()
    if (
        not clean
        or any(c in clean for c in "\r\n")
        or any((ord(c) < 32 and c != "\t") or ord(c) == 127 for c in clean)
    ):
        assert problem is not None
    else:
        assert problem is None
