"""The container image, built without Docker: the Dockerfile's own steps (its ENV, COPY and
`RUN pip install .`) into a fresh virtual environment, then its CMD and HEALTHCHECK, run as
written but for the port and the data folder. It must start in production mode, refuse to
serve without a signing key and say how to give one, say what to do about a data folder it
cannot write, and serve (and pass its health check) once the key is there.

Database-independent (the image's default is SQLite in its volume): it runs in the SQLite
pass of the suite only."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import venv
from pathlib import Path

import httpx
import pytest

from tests.conftest import IS_POSTGRES
from tests.reliability._live import ROOT, free_port

pytestmark = pytest.mark.skipif(IS_POSTGRES, reason="the image's default database is SQLite")

DOCKERFILE = ROOT / "Dockerfile"
IMAGE_PORT = "8000"
NOBODY = 65534


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions (continuation lines joined), comments left out."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


class Image:
    """The Dockerfile's install steps in a virtual environment (`RUN pip install …` as
    `python -m pip install …`), and its run-time settings."""

    def __init__(self, where: Path):
        self.where = where
        self.env: dict[str, str] = {}
        self.cmd: list[str] = []
        self.healthcheck: str = ""
        self.user = ""
        build = where / "app"
        build.mkdir()
        self.venv = where / "venv"
        venv.EnvBuilder(with_pip=True).create(self.venv)
        self.python = str(self.venv / "bin" / "python")
        for word, rest in _instructions():
            if word == "ENV":
                self.env.update(dict(part.split("=", 1) for part in shlex.split(rest)))
            elif word == "COPY":
                *sources, _target = shlex.split(rest)
                for s in sources:
                    src = ROOT / s
                    if src.is_dir():
                        shutil.copytree(src, build / s, ignore=shutil.ignore_patterns(
                            "__pycache__", "*.pyc"))
                    else:
                        shutil.copy2(src, build / s)
            elif word == "RUN" and "pip install" in rest:
                args = shlex.split(rest)
                done = subprocess.run([self.python, "-m", *args, "--quiet"], cwd=build,
                                      capture_output=True, text=True, timeout=900)
                assert done.returncode == 0, done.stdout + done.stderr
            elif word == "CMD":
                self.cmd = json.loads(rest)
            elif word == "HEALTHCHECK":
                self.healthcheck = rest.split(" CMD ", 1)[1]
            elif word == "USER":
                self.user = rest
        shutil.rmtree(build)  # what runs is what pip installed, not the sources
        os.chmod(where, 0o755)

    def run_env(self, data: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SELECTION_")}
        env.update(self.env)
        env["SELECTION_DATA_DIR"] = str(data)
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return env


@pytest.fixture(scope="module")
def image() -> Image:
    where = Path(tempfile.mkdtemp(prefix="selection-image-"))
    try:
        yield Image(where)
    finally:
        shutil.rmtree(where, ignore_errors=True)


def _as_image_user():
    """Run as an unprivileged user, as the image does (USER), when the tests run as root."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        def drop() -> None:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
        return drop
    return None


def _command(image: Image, port: int) -> list[str]:
    cmd = [image.python if c == "python" else c for c in image.cmd]
    return [str(port) if c == IMAGE_PORT else c for c in cmd]


def test_the_image_runs_in_production_mode_as_an_unprivileged_user(image):
    assert image.env.get("SELECTION_ENVIRONMENT") == "production"
    assert image.user and image.user != "root"
    assert "/readyz" in image.healthcheck or "/healthz" in image.healthcheck


def test_without_a_signing_key_it_refuses_and_says_how(image, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    done = subprocess.run(_command(image, free_port()), env=image.run_env(data),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "SELECTION_SECRET_KEY" in done.stderr and "generate-secret-key" in done.stderr
    assert not (data / "selection.db").exists()  # refused before touching anything


def test_a_data_folder_it_cannot_write_is_named_with_the_fix(image):
    data = Path(tempfile.mkdtemp(prefix="selection-ro-data-"))
    try:
        preexec = _as_image_user()
        if preexec is None:
            os.chmod(data, 0o555)
        else:
            os.chmod(data, 0o755)  # owned by root: the image's user cannot write it
        done = subprocess.run(_command(image, free_port()), env=image.run_env(data),
                              capture_output=True, text=True, timeout=120, preexec_fn=preexec)
        assert done.returncode == 2, done.stdout + done.stderr
        assert str(data) in done.stderr and "chown" in done.stderr and "--user" in done.stderr
    finally:
        os.chmod(data, 0o755)
        shutil.rmtree(data, ignore_errors=True)


def test_with_a_key_in_the_volume_it_serves_and_passes_its_health_check(image, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    env = image.run_env(data) | {"SELECTION_ADMIN_PASSWORD": "image-admin-passphrase"}
    made = subprocess.run([image.python, "-m", "service", "generate-secret-key"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stdout + made.stderr
    key = data / "secret_key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    record_keys = data / "record_keys"  # the record's MAC key, made with it
    assert oct(record_keys.stat().st_mode & 0o777) == "0o600"
    again = subprocess.run([image.python, "-m", "service", "generate-secret-key"], env=env,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "exists" in again.stderr  # a key is never replaced quietly

    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(_command(image, port), env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, log.read_text()
            subprocess.run(["sleep", "0.1"])
        else:
            pytest.fail(f"not ready:\n{log.read_text()}")
        check = image.healthcheck.replace(f":{IMAGE_PORT}/", f":{port}/").replace(
            "python -c", f"{shlex.quote(image.python)} -c", 1)
        assert subprocess.run(["sh", "-c", check], timeout=30).returncode == 0
        r = httpx.post(f"{base}/api/v1/auth/token",
                       data={"username": "admin", "password": "image-admin-passphrase"})
        assert r.status_code == 200, r.text
        # production mode: no simulated clock
        token = r.json()["access_token"]
        sim = httpx.put(f"{base}/api/v1/admin/clock", json={"day": "2026-09-30"},
                        headers={"Authorization": f"Bearer {token}"})
        assert sim.status_code in (403, 409), sim.text
        for _ in range(100):  # the banner comes once the server is ready
            if "Created the first administrator" in log.read_text():
                break
            subprocess.run(["sleep", "0.1"])
        banner = log.read_text()
        assert "production mode" in banner and str(data) in banner, banner
    finally:
        proc.terminate()
        proc.wait(timeout=20)

