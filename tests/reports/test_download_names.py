"""Downloads keep their Chinese name: `curl -OJ` (the real curl, against a real server) saves
the file under 第一党支部书记公开选拔-候选人名单.csv, not under an ASCII stand-in."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.reliability._live import LiveServer, server_env


@pytest.fixture
def live(tmp_path):
    server = LiveServer("downloads", server_env(tmp_path / "data"), tmp_path).start()
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_curl_saves_the_download_under_its_chinese_name(live, admin, make_selection, tmp_path,
                                                         ext):
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("no curl on PATH")
    sel = make_selection(title="第一党支部书记公开选拔")
    out = tmp_path / f"out-{ext}"
    out.mkdir()
    done = subprocess.run(
        [curl, "-sS", "-f", "-OJ", "-H", f"Authorization: {admin['Authorization']}",
         f"{live.base_url}/api/v1/selections/{sel['id']}/candidates.{ext}"],
        cwd=out, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode(errors="replace") + live.log_tail()
    saved = [p.name for p in Path(out).iterdir()]
    assert saved == [f"第一党支部书记公开选拔-候选人名单.{ext}"]
    assert (out / saved[0]).stat().st_size > 0
