"""A real headless browser for the tests: Debian's Chromium, with the outside network cut off.

Only 127.0.0.1 resolves; every other host name fails to resolve, so a page that needs a CDN
or any other outside address shows that it does. Without Chromium the tests that need it are
skipped, or fail when REQUIRE_BROWSER=1 (CI sets it; `.ci/run` installs Chromium)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
OFFLINE = "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


def _executable(names: tuple[str, ...], missing: str) -> str:
    """The first of `names` on PATH, or skip with `missing` (fail under REQUIRE_BROWSER=1)."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"{missing}, and REQUIRE_BROWSER=1")
    pytest.skip(missing)


def chromium() -> str:
    """The browser's executable, or skip (fail under REQUIRE_BROWSER=1)."""
    return _executable(CANDIDATES, "no Chromium on PATH (Debian: apt-get install chromium)")


def _run(url: str, *flags: str, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        return subprocess.run(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
             f"--host-resolver-rules={OFFLINE}", *flags, url],
            capture_output=True, timeout=timeout)


def rendered_dom(url: str, *, budget_ms: int = 20000) -> str:
    """The page's DOM after its scripts ran (up to `budget_ms` of virtual time)."""
    done = _run(url, f"--virtual-time-budget={budget_ms}", "--dump-dom")
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done.stdout.decode("utf-8", errors="replace")


def print_to_pdf(url: str, pdf: str) -> None:
    """Print the page to a PDF file as the browser prints it (A4 from the page's own CSS),
    without the browser's own header and footer."""
    done = _run(url, f"--print-to-pdf={pdf}", "--no-pdf-header-footer",
                "--virtual-time-budget=5000")
    assert done.returncode == 0 and os.path.getsize(pdf) > 0, \
        done.stderr.decode(errors="replace")[-2000:]


def screenshot(url: str, png: str, *, width: int = 1000, height: int = 1300) -> None:
    """A PNG of the page as shown on screen."""
    done = _run(url, f"--screenshot={png}", f"--window-size={width},{height}",
                "--hide-scrollbars", "--virtual-time-budget=5000")
    assert done.returncode == 0 and os.path.getsize(png) > 0, \
        done.stderr.decode(errors="replace")[-2000:]


def pdf_text(pdf: str) -> tuple[str, int]:
    """The PDF's text (pdftotext, layout kept) and its number of pages."""
    tool = shutil.which("pdftotext")
    if tool is None:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("no pdftotext (Debian: apt-get install poppler-utils)")
        pytest.skip("no pdftotext (Debian: apt-get install poppler-utils)")
    out = subprocess.run([tool, "-layout", pdf, "-"], capture_output=True, check=True)
    text = out.stdout.decode("utf-8")
    return text, text.count("\f")


def _chromedriver() -> str:
    """chromedriver's executable (Debian's `chromium-driver`), or skip (fail under
    REQUIRE_BROWSER=1)."""
    chromium()
    return _executable(("chromedriver",),
                       "no chromedriver on PATH (Debian: apt-get install chromium-driver)")


def download(url: str, folder: str, *, headers: dict[str, str] | None = None,
             languages: str = "zh-CN,zh", timeout: float = 60) -> list[str]:
    """The names of the files the browser saves when it opens `url` (a download), letting it
    save into `folder` as a person's browser saves into theirs (CDP
    Browser.setDownloadBehavior, driven through chromedriver). The browser's languages are
    `languages` (what it sends as Accept-Language: a Chinese user's by default); `headers`
    go with the request (Network.setExtraHTTPHeaders), e.g. the Authorization a front end
    sends."""
    import time

    import httpx

    from tests.reliability._live import free_port

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        driver = subprocess.Popen([_chromedriver(), f"--port={port}"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base, timeout=timeout) as wd:
                for _ in range(100):
                    try:
                        if wd.get("/status").json()["value"]["ready"]:
                            break
                    except httpx.TransportError:
                        pass
                    time.sleep(0.1)
                session = wd.post("/session", json={"capabilities": {"alwaysMatch": {
                    "goog:chromeOptions": {"binary": chromium(),
                                           "prefs": {"intl.accept_languages": languages},
                                           "args": [
                        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                        f"--host-resolver-rules={OFFLINE}"]}}}}).json()["value"]
                sid = session["sessionId"]

                def cdp(cmd: str, **params) -> None:
                    r = wd.post(f"/session/{sid}/goog/cdp/execute",
                                json={"cmd": cmd, "params": params})
                    assert r.status_code == 200, r.text

                try:
                    cdp("Browser.setDownloadBehavior", behavior="allow", downloadPath=folder)
                    if headers:
                        cdp("Network.enable")
                        cdp("Network.setExtraHTTPHeaders", headers=headers)
                    # a download ends the navigation without a page: not an error here
                    wd.post(f"/session/{sid}/url", json={"url": url})
                    deadline = time.monotonic() + timeout
                    while time.monotonic() < deadline:
                        names = sorted(os.listdir(folder))
                        if names and not any(n.endswith(".crdownload") for n in names):
                            return names
                        time.sleep(0.2)
                    return sorted(os.listdir(folder))
                finally:
                    wd.delete(f"/session/{sid}")
        finally:
            driver.terminate()
            driver.wait(timeout=10)
