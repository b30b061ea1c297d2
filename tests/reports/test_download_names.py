"""Downloads keep their Chinese name: `curl -OJ` (the real curl, against a real server) and
a real headless Chromium save the file under 第一党支部书记公开选拔-候选人名单.csv, not under
an ASCII stand-in."""

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


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_chromium_saves_the_download_under_its_chinese_name(live, admin, make_selection,
                                                            tmp_path, ext):
    """A browser reads `filename*` (RFC 6266) first: Chromium, let to save the export into a
    folder, saves it under the Chinese name; a browser set to English, under the title and
    the English word."""
    from tests.browser import download

    sel = make_selection(title="第一党支部书记公开选拔")
    url = f"{live.base_url}/api/v1/selections/{sel['id']}/candidates.{ext}"
    auth = {"Authorization": admin["Authorization"]}
    for languages, name in (("zh-CN,zh", f"第一党支部书记公开选拔-候选人名单.{ext}"),
                            ("en-US,en", f"第一党支部书记公开选拔-candidates.{ext}")):
        folder = tmp_path / f"downloads-{ext}-{languages[:2]}"
        folder.mkdir()
        saved = download(url, str(folder), headers=auth, languages=languages)
        assert saved == [name], live.log_tail()
        assert (folder / saved[0]).stat().st_size > 0
