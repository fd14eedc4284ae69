"""The arq queue: connection settings and enqueueing without a round trip per message.

Only ids cross the queue. Job ids are deterministic (``parse:<message id>``) so arq itself
refuses a second copy of a job that is queued or running.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import job_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms

log = logging.getLogger(__name__)

PARSE_JOB = "process_message"
QUEUE_NAME = "feedback:queue"


def redis_settings(url: str, *, conn_retries: int = 5) -> RedisSettings:
    """arq settings for ``redis://``, ``rediss://`` or ``unix://`` URLs."""
    parts = urlsplit(url)
    if parts.scheme == "redis+sentinel":
        return sentinel_settings(url, conn_retries=conn_retries)
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


def sentinel_settings(url: str, *, conn_retries: int = 5) -> RedisSettings:
    """``redis+sentinel://[:password@]host1:26379,host2:26379/MASTER[?db=N]``: Redis behind
    Sentinel, which names the current master (arq asks the sentinels on every connection)."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    password = (
        unquote(parts.netloc.rpartition("@")[0].partition(":")[2]) or None if "@" in parts.netloc else None
    )
    hosts: list[tuple[str, int]] = []
    for item in netloc.split(","):
        host, _, port = item.strip().rpartition(":") if ":" in item else (item.strip(), "", "26379")
        if not host:
            raise ValueError(
                f"redis_url {url!r}: write it as redis+sentinel://host1:26379,host2:26379/master"
            )
        hosts.append((host, int(port or 26379)))
    master = parts.path.strip("/") or "mymaster"
    query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    return RedisSettings(
        host=hosts,  # arq takes a host list with sentinel=True
        sentinel=True,
        sentinel_master=master,
        password=password,
        database=int(query.get("db", 0)),
        conn_retries=conn_retries,
        conn_timeout=2,
    )


async def connect(url: str, *, conn_retries: int = 5) -> ArqRedis:
    return await create_pool(redis_settings(url, conn_retries=conn_retries), default_queue_name=QUEUE_NAME)


def job_id(message_id: int) -> str:
    return f"parse:{message_id}"


async def close_pool(pool: ArqRedis) -> None:
    """Close a pool (redis-py 5's ``aclose``; arq's type stubs predate it)."""
    closing: Any = pool
    await closing.aclose()


async def enqueue_messages(pool: ArqRedis, message_ids: Iterable[int]) -> list[int]:
    """Enqueue parse jobs for ``message_ids`` in one pipelined round trip; returns the ids sent.

    arq's ``enqueue_job`` costs a WATCH/MULTI transaction (four round trips and much event-loop
    CPU) per job; here each job is ``SET job NX PX`` + ``ZADD queue NX`` in a single pipeline, the
    same keys and serialisation arq writes. A job already queued or running keeps its entry (NX);
    a finished one may run again, which ``process_message`` treats as a no-op.
    """
    ids = list(dict.fromkeys(message_ids))
    if not ids:
        return []
    now_ms = timestamp_ms()
    expires_ms = pool.expires_extra_ms
    async with pool.pipeline(transaction=False) as pipe:
        for mid in ids:
            jid = job_id(mid)
            job = serialize_job(PARSE_JOB, (mid,), {}, None, now_ms, serializer=pool.job_serializer)
            pipe.set(job_key_prefix + jid, job, px=expires_ms, nx=True)
            pipe.zadd(QUEUE_NAME, {jid: now_ms}, nx=True)
        await pipe.execute()
    return ids
