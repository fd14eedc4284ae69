"""Unit tests of the pure edges: tokens, dedup keys, rendering sandbox, settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedback.core.taxonomy import default_taxonomy
from feedback.core.tokens import TOKEN_LENGTH, TokenError, find_token, make_token, reply_address, verify_token
from feedback.ingress.dedup import dedup_key
from feedback.outbound.rendering import Renderer, TemplateError, option_groups
from feedback.runtime.settings import ConfigError, load_settings

SECRET = b"unit-test-secret"


@given(st.integers(min_value=1, max_value=2**40 - 1))
def test_token_round_trip_and_case_insensitive(request_id: int) -> None:
    token = make_token(request_id, SECRET)
    assert len(token) == TOKEN_LENGTH
    assert verify_token(token, SECRET) == request_id
    assert verify_token(token.upper(), SECRET) == request_id
    assert len(f"feedback+{token}") < 64


@given(st.integers(min_value=1, max_value=10**9), st.integers(min_value=0, max_value=TOKEN_LENGTH - 1))
def test_tampered_token_refused(request_id: int, position: int) -> None:
    token = make_token(request_id, SECRET)
    swapped = "a" if token[position] != "a" else "b"
    tampered = token[:position] + swapped + token[position + 1 :]
    with pytest.raises(TokenError):
        verify_token(tampered, SECRET)


def test_token_from_other_secret_refused() -> None:
    with pytest.raises(TokenError):
        verify_token(make_token(7, b"other"), SECRET)


def test_find_token_plus_and_bare_forms() -> None:
    token = make_token(42, SECRET)
    assert find_token([f"Feedback+{token.upper()}@Feedback.Example"], domain="feedback.example") == token
    assert find_token([f"{token}@feedback.example"], domain="feedback.example") == token
    assert find_token(["someone@else.example", "feedback@feedback.example"]) is None
    assert (
        reply_address(token, local="feedback", domain="d.example", plus_addressing=False)
        == f"{token}@d.example"
    )


def test_dedup_key_ignores_trace_headers_but_not_content() -> None:
    body = (
        b"From: a@x\r\nSubject: Re: x\r\nMessage-ID: <1@x>\r\n"
        b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nLost.\r\n"
    )
    again = b"Received: from relay by mx; Tue\r\n" + body
    other = body.replace(b"Lost.", b"Won.")
    assert dedup_key(body) == dedup_key(again)
    assert dedup_key(body)[0] != dedup_key(other)[0]
    assert dedup_key(body)[1] == "<1@x>"
    no_id = body.replace(b"Message-ID: <1@x>\r\n", b"")
    assert dedup_key(no_id)[0] == dedup_key(no_id)[0] and dedup_key(no_id)[1] is None


def _ctx(name: str = "Peter") -> dict[str, object]:
    return {
        "rep": {"first_name": "Dana", "name": "Dana W"},
        "lead": {
            "name": name,
            "company": "Globex",
            "title": None,
            "email": None,
            "source": "Web",
            "campaign": None,
            "assigned_on": "today",
        },
        "options": option_groups(default_taxonomy().kind("disposition")),
        "sender_name": "Sales Feedback",
    }


def test_request_lists_numbered_options_and_escapes_html() -> None:
    mail = Renderer().render("disposition_request", _ctx("Peter <script>"))
    assert "  1. Meeting booked" in mail.text and "  14. Early research" in mail.text
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    assert mail.version.startswith("shipped-")


def test_subject_cannot_inject_headers() -> None:
    mail = Renderer().render("disposition_request", _ctx("Peter\r\nBcc: victim@example.com"))
    assert "\n" not in mail.subject and "\r" not in mail.subject


def test_sandbox_refuses_python_internals() -> None:
    evil = (
        "{% block subject %}{{ ''.__class__.__mro__ }}{% endblock %}{% block text %}{% endblock %}"
        "{% block html %}{% endblock %}"
    )
    with pytest.raises(TemplateError, match="unsafe"):
        Renderer().check("reminder", evil, _ctx())


def test_syntax_error_names_the_line() -> None:
    with pytest.raises(TemplateError, match="line 2"):
        Renderer().check("reminder", "{% block subject %}x{% endblock %}\n{{ oops }", _ctx())


def test_secret_required_with_production_database(tmp_path: Path) -> None:
    settings = load_settings({"FEEDBACK_DATABASE_URL": "postgresql://x@db/feedback"}, data_dir=tmp_path)
    with pytest.raises(ConfigError, match="FEEDBACK_SECRET"):
        settings.secret_bytes()


def test_secret_generated_once_on_embedded_default(tmp_path: Path) -> None:
    settings = load_settings({}, data_dir=tmp_path)
    assert settings.secret_bytes() == load_settings({}, data_dir=tmp_path).secret_bytes()
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0


def test_settings_from_env_mapping_and_toml(tmp_path: Path) -> None:
    toml = tmp_path / "feedback.toml"
    toml.write_text(
        '[feedback]\nreply_domain = "FB.Example"\n[[competitors]]\nname = "Contoso Suite"\n'
        'aliases = ["contoso"]\n'
    )
    settings = load_settings({"FEEDBACK_SMTP_PORT": "2600", "FEEDBACK_CONFIG": str(toml)})
    assert settings.smtp_port == 2600 and settings.reply_domain == "fb.example"
    assert settings.competitors[0].name == "Contoso Suite"


def test_bad_toml_is_refused_with_the_line(tmp_path: Path) -> None:
    toml = tmp_path / "feedback.toml"
    toml.write_text("[feedback]\nreply_domain = \n")
    with pytest.raises(ConfigError, match="line 2"):
        load_settings({}, config=toml)


def test_structured_log_lines_carry_the_message_fields() -> None:
    import json
    import logging

    from feedback.runtime.logs import JsonFormatter, KeyValueFormatter

    record = logging.LogRecord("feedback.ingress.smtp", logging.INFO, __file__, 1, "stored", (), None)
    for key, value in {"message_id": 7, "peer": "127.0.0.1", "size": 4096, "status": 250, "ms": 1.5}.items():
        setattr(record, key, value)
    line = json.loads(JsonFormatter().format(record))
    assert line["event"] == "stored" and line["message_id"] == 7 and line["status"] == 250
    assert "size=4096" in KeyValueFormatter("%(message)s").format(record)


def test_errors_sort_into_transient_and_permanent_branches() -> None:
    """Jobs retry outages only: a connection fault is transient, a data or integrity error a bug."""
    from sqlalchemy import exc as sa_exc

    from feedback.ingress.store import StoreRefused, StoreUnavailable
    from feedback.outbound.delivery import MailNotSent
    from feedback.runtime.errors import FeedbackError, PermanentError, TransientError, is_transient

    assert is_transient(sa_exc.OperationalError("SELECT 1", {}, Exception("server closed the connection")))
    assert is_transient(StoreUnavailable("down")) and is_transient(MailNotSent("relay refused"))
    assert is_transient(ConnectionRefusedError()) and is_transient(TimeoutError())
    assert not is_transient(sa_exc.IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not is_transient(sa_exc.DataError("INSERT", {}, Exception("value too long")))
    assert not is_transient(StoreRefused("NUL byte")) and not is_transient(ValueError("a bug"))
    assert issubclass(TransientError, FeedbackError) and issubclass(PermanentError, FeedbackError)
    assert issubclass(StoreRefused, PermanentError) and issubclass(StoreUnavailable, TransientError)
