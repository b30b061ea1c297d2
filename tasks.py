#!/usr/bin/env python3
"""Set up and run the service or its tests; needs only Python 3.11+.

    python3 tasks.py serve [serve options]   install into .venv, migrate, serve on SQLite
    python3 tasks.py test [pytest options]   install into .venv, run the suite on SQLite,
                                             then again on PostgreSQL when it is reachable
    python3 tasks.py bench [bench options]   install .venv with the bench extras and wrk,
                                             run the load benchmark (bench/README.md)
    python3 tasks.py lock                    write requirements.lock: every package .venv
                                             has (the project and its dev extras), pinned

Environment: TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres) is the
server the PostgreSQL run creates its own throw-away database on; REQUIRE_POSTGRES=1 makes a
missing PostgreSQL a failure instead of a skip.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import venv
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def ensure_venv() -> None:
    """Create .venv and install the project with its dev extras, once per pyproject change."""
    if sys.version_info < (3, 11):  # noqa: UP036  (tasks.py runs on whatever python3 is)
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}")
    if not PY.exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, upgrade_deps=False).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    print("installing dependencies (pip install -e .[dev])", flush=True)
    subprocess.run([str(PY), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(PY), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[dev]"],
                   check=True)
    STAMP.write_text(digest)


def compile_bytecode() -> None:
    """Bytecode for the service's own modules, as pip writes it for the packages it installs
    (an editable install does not, and PYTHONDONTWRITEBYTECODE keeps Python from writing it):
    otherwise every start compiles them again. Up to date, this only looks at the files."""
    subprocess.run([str(PY), "-m", "compileall", "-q", str(ROOT / "service")],
                   check=False, stdout=subprocess.DEVNULL)


def ensure_bench() -> None:
    """Add the bench extras to .venv, once per pyproject change, and make sure wrk is there."""
    import shutil

    stamp = VENV / ".installed-bench"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not (stamp.exists() and stamp.read_text() == digest):
        print("installing bench dependencies (pip install -e .[dev,bench])", flush=True)
        subprocess.run([str(PY), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[dev,bench]"],
                       check=True)
        stamp.write_text(digest)
    if shutil.which("wrk"):
        return
    if os.name != "nt" and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which(
            "apt-get"):
        print("installing wrk (apt-get install -y wrk)", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False)
    if not shutil.which("wrk"):
        sys.exit("The benchmark drives the service with wrk, which is not installed: "
                 "`sudo apt-get install wrk` (Debian/Ubuntu) or `brew install wrk` (macOS).")


def postgres_reachable(url: str) -> bool:
    """Whether something listens where the PostgreSQL URL points."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), 3):
            return True
    except OSError:
        return False


def run_tests(args: list[str]) -> int:
    """The suite on SQLite, then on PostgreSQL when reachable (or required); the last lines
    say what ran and how each run ended."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SELECTION_")}
    env.pop("TEST_DATABASE_URL", None)
    results: list[tuple[str, str]] = []

    def summary(rc: int) -> int:
        print("== summary", flush=True)
        for name, outcome in results:
            print(f"==   {name}: {outcome}", flush=True)
        print(f"== {'PASSED' if rc == 0 else 'FAILED'}", flush=True)
        return rc

    def suite(name: str, run_env: dict[str, str]) -> int:
        print(f"== test suite on {name}", flush=True)
        rc = subprocess.run([str(PY), "-m", "pytest", *args], cwd=ROOT, env=run_env).returncode
        results.append((name, "passed" if rc == 0 else f"FAILED (pytest exit code {rc})"))
        return rc

    pg = os.environ.get("TEST_POSTGRES_URL", DEFAULT_PG)
    if suite("SQLite", env) != 0:
        results.append((f"PostgreSQL ({pg})", "NOT STARTED, because the SQLite run failed"))
        return summary(1)
    if not postgres_reachable(pg):
        msg = f"PostgreSQL is not reachable at {pg}"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            results.append(("PostgreSQL", f"FAILED: {msg}, and REQUIRE_POSTGRES=1"))
            return summary(1)
        results.append(("PostgreSQL", f"SKIPPED: {msg} (set TEST_POSTGRES_URL to point at one)"))
        return summary(0)
    return summary(suite(f"PostgreSQL ({pg})", {**env, "TEST_DATABASE_URL": pg}))


LOCK = ROOT / "requirements.lock"
LOCK_HEADER = """\
# Every package the service and its dev tools pull in, as installed by `python3 tasks.py
# install` (pip install -e .[dev]); written by `python3 tasks.py lock`. The ranges are in
# pyproject.toml (tests/core/test_dependencies.py checks each pin is inside its range).
# For the same versions elsewhere: pip install -r requirements.lock -e .[dev]
# Known advisories: README, "Reliability and security".
"""


def write_lock() -> int:
    """Pin what .venv has installed, the project itself left out."""
    frozen = subprocess.run([str(PY), "-m", "pip", "freeze", "--exclude-editable"], check=True,
                            capture_output=True, text=True).stdout
    lines = sorted((line for line in frozen.splitlines() if line and not line.startswith("#")),
                   key=lambda line: line.split("==")[0].lower())
    LOCK.write_text(LOCK_HEADER + "\n".join(lines) + "\n")
    print(f"{LOCK.name}: {len(lines)} packages", flush=True)
    return 0


def main() -> int:
    """Dispatch serve / test / any other `python -m service` command."""
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0
    command, rest = sys.argv[1], sys.argv[2:]
    ensure_venv()
    compile_bytecode()
    if command == "test":
        return run_tests(rest)
    if command == "bench":
        ensure_bench()
        return subprocess.run([str(PY), "-m", "bench", *rest], cwd=ROOT).returncode
    if command == "install":
        return 0
    if command == "lock":
        return write_lock()
    return subprocess.run([str(PY), "-m", "service", command, *rest], cwd=ROOT).returncode


if __name__ == "__main__":
    raise SystemExit(main())
