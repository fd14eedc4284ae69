"""Redis behind Sentinel: `redis+sentinel://` URLs, tested against a private redis-server and a
private sentinel on free ports (never the shared Redis)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedback.runtime.queue import close_pool, connect, redis_settings

REDIS = shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while True:  # until it listens (a condition, polled)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"nothing listens on {port}"
            time.sleep(0.05)


def test_sentinel_urls_are_parsed() -> None:
    settings = redis_settings("redis+sentinel://:s3cret@s1:26379,s2:26380/feedback-master?db=3")
    assert settings.sentinel and settings.sentinel_master == "feedback-master"
    assert settings.host == [("s1", 26379), ("s2", 26380)] and settings.password == "s3cret"
    assert settings.database == 3


@pytest.fixture
def sentinel(tmp_path: Path) -> Iterator[str]:
    if REDIS is None:
        pytest.skip("no redis-server binary")
    master, watcher = _free_port(), _free_port()
    procs = [
        subprocess.Popen(
            [REDIS, "--port", str(master), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    _wait_port(master)
    conf = tmp_path / "sentinel.conf"
    conf.write_text(f"port {watcher}\nbind 127.0.0.1\nsentinel monitor fbmaster 127.0.0.1 {master} 1\n")
    procs.append(subprocess.Popen([REDIS, str(conf), "--sentinel"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL))  # fmt: skip
    _wait_port(watcher)
    try:
        yield f"redis+sentinel://127.0.0.1:{watcher}/fbmaster"
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)


async def test_the_queue_connects_through_sentinel(sentinel: str) -> None:
    pool = await connect(sentinel, conn_retries=3)
    try:
        assert await pool.ping()
        await pool.set("feedback:sentinel-check", "ok")
        assert await pool.get("feedback:sentinel-check") == b"ok"
    finally:
        await close_pool(pool)
