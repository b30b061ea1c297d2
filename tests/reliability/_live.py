"""Real uvicorn processes for the reliability tests: start on a free loopback port, wait for
/readyz, stop (and kill if need be), and show the server's log when something goes wrong."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The test process's environment for a server: the same database URL, signing key
    (so that tokens from one replica are good on the other) and record keys (so that every
    process signs and verifies the record alike), its own data dir, no SMTP."""
    from tests.conftest import record_keys_env

    env = {k: v for k, v in os.environ.items() if not k.startswith("SELECTION_")}
    env.update({
        "SELECTION_ENVIRONMENT": "development",
        "SELECTION_DATABASE_URL": os.environ["SELECTION_DATABASE_URL"],
        "SELECTION_SECRET_KEY": os.environ["SELECTION_SECRET_KEY"],
        "SELECTION_REQUIRE_IF_MATCH": os.environ["SELECTION_REQUIRE_IF_MATCH"],
        "SELECTION_DATA_DIR": str(data_dir),
        "PYTHONUNBUFFERED": "1",
        **record_keys_env(),
    })
    env.update(extra)
    return env


class LiveServer:
    """One `python -m uvicorn service.main:app` process on a loopback port (through
    tests.conformance.recorded_app during the suite)."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path):
        self.name, self.env = name, env
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> LiveServer:
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open by the child
        # the suite's check of the document reads what the server answered (tests/conformance.py)
        app = (["--factory", "tests.conformance:recorded_app"] if self.env.get(
            "TEST_PROBLEMS_DIR") else ["service.main:app"])
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", *app, "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning", "--no-access-log"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        log.close()
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        """Until GET /readyz answers 200; fail with the server's log if it never does."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"server {self.name} exited with {self.proc.returncode}:\n"
                                   f"{self.log_tail()}")
            try:
                r = httpx.get(f"{self.base_url}/readyz", timeout=2)
                if r.status_code == 200:
                    return
                last = f"{r.status_code} {r.text[:300]}"
            except httpx.HTTPError as e:
                last = repr(e)
            time.sleep(0.1)
        raise RuntimeError(f"server {self.name} not ready after {timeout}s ({last}):\n"
                           f"{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a few seconds; only this server's own process group."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"
