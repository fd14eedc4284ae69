"""`feedback serve` as a real process: accepts mail, stops cleanly on SIGTERM, leaves no Redis."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "serve exited"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)  # polling the port, not synchronising on time
    raise AssertionError("serve did not listen in time")


def test_serve_accepts_then_stops_on_sigterm(tmp_path: Path) -> None:
    import smtplib

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBACK_")}
    env.update({"FEEDBACK_DATA_DIR": str(tmp_path / "var"), "FEEDBACK_REPLY_DOMAIN": "feedback.localhost"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--port", str(port)],
        cwd=Path(__file__).resolve().parent.parent, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        _wait_port(port, proc)
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as smtp:
            code, banner = smtp.ehlo()
            assert code == 250 and b"SIZE" in banner
            smtp.sendmail("rep@brightline.example", ["feedback@feedback.localhost"],
                          b"From: rep@brightline.example\r\nSubject: hello\r\n\r\nAccepted.\r\n")  # fmt: skip
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    redis_dir = tmp_path / "var" / "redis"
    assert not (redis_dir / "redis.pid").exists() and not (redis_dir / "redis.sock").exists()
    engine = create_engine(f"sqlite:///{tmp_path / 'var' / 'feedback.storage.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from inbound_message")).scalar_one() == 1
    engine.dispose()
