"""End-to-end fixtures: a live app on a temporary run store, and Debian's Chromium via Playwright.

Skipped (with the reason) when /usr/bin/chromium or Playwright is missing.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.browser import wait_idle

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("SPARSITY_LAB_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("SPARSITY_LAB_SCREENSHOTS", ROOT / "screenshots"))

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """Start the app (streamlit run) on a free port with its own run store; yield (url, db path).

    The server's output goes to a file, never to a pipe nobody reads: a full 64 KiB pipe (e.g. of
    file-watcher warnings) blocks the server and the workers it spawned.
    """
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (install Debian's chromium package)")
    pytest.importorskip("playwright.sync_api")
    tmp = tmp_path_factory.mktemp("e2e")
    db = tmp / "runs.db"
    log_path = tmp / "server.log"
    log = open(log_path, "wb")
    port = _free_port()
    env = dict(os.environ, SPARSITY_LAB_DB=str(db))
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        log.close()
        pytest.fail("the app did not start: " + log_path.read_text(errors="replace")[-2000:])
    yield url, db
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def app_url(app_server):
    return app_server[0]


@pytest.fixture(scope="session")
def app_db(app_server):
    return app_server[1]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser, app_url):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    ctx.close()


@pytest.fixture
def idle():
    """idle(page): wait until the page script has finished running."""
    return wait_idle


@pytest.fixture
def shot():
    """shot(page, name): screenshot the whole page under screenshots/ (look at it!).

    Streamlit scrolls inside its own container, so a full-page shot would show only the first
    screen: the window grows to the content's height for the shot, then shrinks back.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(pg, name: str) -> Path:
        size = pg.viewport_size
        height = pg.evaluate(
            "() => Math.max(...[...document.querySelectorAll('section, [data-testid=stMain]')]"
            ".map(e => e.scrollHeight), document.body.scrollHeight)")
        pg.set_viewport_size({"width": size["width"], "height": min(int(height) + 100, 12000)})
        time.sleep(1.0)  # let Plotly re-layout to the new size
        path = SCREENSHOTS / f"{name}.png"
        pg.screenshot(path=str(path), full_page=True)
        pg.set_viewport_size(size)
        return path

    return take
