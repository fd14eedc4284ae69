"""The arq queue: connection settings and enqueueing without a round trip per message.

Only ids cross the queue. Job ids are deterministic (``parse:<message id>``) so arq itself
refuses a second copy of a job that is queued or running.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from arq.connections import ArqRedis, RedisSettings, create_pool

log = logging.getLogger(__name__)

PARSE_JOB = "process_message"
QUEUE_NAME = "feedback:queue"


def redis_settings(url: str, *, conn_retries: int = 5) -> RedisSettings:
    """arq settings for ``redis://``, ``rediss://`` or ``unix://`` URLs."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        db = 0
        if parts.query.startswith("db="):
            db = int(parts.query[3:])
        return RedisSettings(
            unix_socket_path=parts.path, database=db, conn_retries=conn_retries, conn_timeout=2
        )
    settings = RedisSettings.from_dsn(url)
    settings.conn_retries = conn_retries
    settings.conn_timeout = 2
    return settings


async def connect(url: str, *, conn_retries: int = 5) -> ArqRedis:
    return await create_pool(redis_settings(url, conn_retries=conn_retries), default_queue_name=QUEUE_NAME)


def job_id(message_id: int) -> str:
    return f"parse:{message_id}"


async def enqueue_messages(pool: ArqRedis, message_ids: Iterable[int]) -> list[int]:
    """Enqueue parse jobs concurrently; returns the ids that are now queued (or already were)."""
    ids = list(message_ids)

    async def one(mid: int) -> int:
        await pool.enqueue_job(PARSE_JOB, mid, _job_id=job_id(mid), _queue_name=QUEUE_NAME)
        return mid  # None from arq means "already queued": fine either way

    results = await asyncio.gather(*(one(mid) for mid in ids), return_exceptions=True)
    done = [r for r in results if isinstance(r, int)]
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:
        log.warning("enqueue failed for %d message(s): %s", len(failed), failed[0])
    return done
