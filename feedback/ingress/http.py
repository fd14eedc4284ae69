"""The HTTP side of the service: provider webhooks, health, readiness and metrics (Starlette).

Starlette on uvicorn rather than aiohttp: it is ASGI (one app for uvicorn in ``feedback serve``
and for any ASGI server in front), small, typed, and its form parser streams uploads to disk
(python-multipart) instead of holding a 25 MiB message in memory twice.

Routes: ``POST /inbound/mailgun``, ``/inbound/sendgrid``, ``/inbound/postmark``, ``/inbound/ses``
(each enabled by its credentials in settings, else 404), ``GET /healthz`` (alive), ``/readyz``
(database, Redis and the SMTP listener reachable; 503 with what is not), ``/metrics``
(Prometheus text). Every refusal is a status and a one-line JSON reason, logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from feedback.ingress.accept import Enqueue, Refused, accept
from feedback.ingress.metrics import Metrics
from feedback.ingress.providers import (
    InboundMail,
    ReplayGuard,
    WebhookRefused,
    check_basic_auth,
    mailgun,
    postmark,
    sendgrid,
)
from feedback.ingress.sns import SnsVerifier, parse_body, ses_mail
from feedback.runtime.settings import Settings

log = logging.getLogger("feedback.http")

Check = Callable[[], Awaitable[None]]


@dataclass
class HttpDeps:
    """What the app needs, built once at start and passed in (tests give their own)."""

    settings: Settings
    engine: Engine
    enqueue: Enqueue | None = None
    sns: SnsVerifier | None = None
    checks: dict[str, Check] = field(default_factory=dict)  # readiness: name -> raises when down
    metrics: Metrics | None = None
    guard: ReplayGuard = field(default_factory=ReplayGuard)


def _refusal(provider: str, status: int, reason: str, deps: HttpDeps) -> JSONResponse:
    log.warning("webhook refused", extra={"provider": provider, "status": status, "reason": reason})
    if deps.metrics is not None:
        deps.metrics.refused.labels(provider, str(status)).inc()
    return JSONResponse({"error": reason}, status_code=status)


def _ceiling(limit: int) -> int:
    return limit * 4 // 3 + 64 * 1024  # base64 or form encoding of a message at the limit


def _check_length(request: Request, limit: int) -> None:
    try:
        size = int(request.headers.get("content-length") or 0)
    except ValueError:
        raise WebhookRefused("Content-Length is not a number", status=400) from None
    if size > _ceiling(limit):
        raise WebhookRefused(f"body of {size} bytes is over the {limit}-byte message limit", status=413)


async def _limited_body(request: Request, limit: int) -> bytes:
    """The request body, refused (413) as soon as it passes ``limit`` plus encoding overhead."""
    _check_length(request, limit)
    ceiling = _ceiling(limit)
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > ceiling:
            raise WebhookRefused("body is over the limit", status=413)
        chunks.append(chunk)
    return b"".join(chunks)


def build_app(deps: HttpDeps) -> Starlette:
    s = deps.settings

    async def store(provider: str, mail: InboundMail, request: Request) -> Response:
        peer = request.client.host if request.client else "?"
        try:
            stored = await accept(
                mail.raw,
                mail_from=mail.mail_from,
                recipients=mail.recipients,
                peer=f"{provider}:{peer}",
                settings=s,
                engine=deps.engine,
                enqueue=deps.enqueue,
            )
        except Refused as exc:
            return _refusal(provider, exc.status, str(exc), deps)
        if deps.metrics is not None:
            deps.metrics.accepted.labels(provider).inc()
        return JSONResponse({"stored": stored.id, "duplicate": stored.duplicate})

    async def form_of(request: Request) -> dict[str, Any]:
        form = await request.form(max_part_size=_ceiling(s.data_size_limit))
        out: dict[str, Any] = {}
        for key, value in form.multi_items():
            out[key] = await value.read() if hasattr(value, "read") else value
        return out

    def handler(provider: str, run: Callable[[Request], Awaitable[InboundMail | Response]]) -> Route:
        async def endpoint(request: Request) -> Response:
            try:
                result = await run(request)
            except WebhookRefused as exc:
                return _refusal(provider, exc.status, str(exc), deps)
            except ValueError as exc:  # a malformed form or JSON body
                return _refusal(provider, 400, f"malformed payload: {exc}", deps)
            if isinstance(result, Response):
                return result
            return await store(provider, result, request)

        return Route(f"/inbound/{provider}", endpoint, methods=["POST"])

    async def run_mailgun(request: Request) -> InboundMail:
        if s.mailgun_signing_key is None:
            raise WebhookRefused("Mailgun is not configured (mailgun_signing_key)", status=404)
        _check_length(request, s.data_size_limit)
        return mailgun(
            await form_of(request), signing_key=s.mailgun_signing_key.get_secret_value(), guard=deps.guard
        )

    def basic(request: Request) -> None:
        if s.webhook_user is None or s.webhook_password is None:
            raise WebhookRefused("this webhook is not configured (webhook_user/webhook_password)", status=404)
        check_basic_auth(
            request.headers.get("authorization"), s.webhook_user, s.webhook_password.get_secret_value()
        )

    async def run_sendgrid(request: Request) -> InboundMail:
        basic(request)
        _check_length(request, s.data_size_limit)
        return sendgrid(await form_of(request))

    async def run_postmark(request: Request) -> InboundMail:
        basic(request)
        import json

        body = await _limited_body(request, s.data_size_limit)
        try:
            payload = json.loads(body)
        except ValueError:
            raise WebhookRefused("Postmark body is not JSON", status=400) from None
        return postmark(payload)

    async def run_ses(request: Request) -> InboundMail | Response:
        if deps.sns is None:
            raise WebhookRefused("SES is not configured (ses_topic_arns)", status=404)
        message = parse_body(await _limited_body(request, s.data_size_limit))
        await asyncio.to_thread(deps.sns.verify, message)
        kind = message.get("Type")
        if kind == "SubscriptionConfirmation":
            await asyncio.to_thread(deps.sns.confirm, message)
            log.info("SNS subscription confirmed", extra={"topic": message.get("TopicArn")})
            return JSONResponse({"confirmed": message.get("TopicArn")})
        if kind == "UnsubscribeConfirmation":
            return JSONResponse({"unsubscribed": message.get("TopicArn")})
        if kind != "Notification":
            raise WebhookRefused(f"unknown SNS message type {kind!r}", status=400)
        return ses_mail(message)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(request: Request) -> Response:
        failures = {}
        for name, check in deps.checks.items():
            try:
                await asyncio.wait_for(check(), 3)
            except Exception as exc:
                failures[name] = f"{type(exc).__name__}: {exc}"[:300]
        if failures:
            return JSONResponse({"ready": False, "down": failures}, status_code=503)
        return JSONResponse({"ready": True, "checked": sorted(deps.checks)})

    async def metrics(request: Request) -> Response:
        if deps.metrics is None:
            return PlainTextResponse("metrics are off\n", status_code=404)
        body, content_type = await asyncio.to_thread(deps.metrics.render)
        return Response(body, media_type=content_type)

    routes = [
        handler("mailgun", run_mailgun),
        handler("sendgrid", run_sendgrid),
        handler("postmark", run_postmark),
        handler("ses", run_ses),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
    ]
    return Starlette(routes=routes)


def database_check(engine: Engine) -> Check:
    async def check() -> None:
        def ping() -> None:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        await asyncio.to_thread(ping)

    return check


def tcp_check(host: str, port: int) -> Check:
    async def check() -> None:
        _, writer = await asyncio.open_connection(host, port)
        writer.close()
        await writer.wait_closed()

    return check
