"""A real app server on a copy of the demo database, driven by Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.streamlit_page import forget, watch

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
expect.set_options(timeout=30_000)  # a cold first load computes every chart of the page
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


REP_PASSWORD = "a rep's long passphrase"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app server exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the app server did not answer within {seconds:.0f} s")


class AppServer:
    """``streamlit run app.py`` on a free port; can be restarted on the same database."""

    def __init__(self, db: Path, workdir: Path) -> None:
        self.db, self.workdir = db, workdir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        log = self.workdir / "server.log"
        env = {**os.environ, "KPI_DB": str(self.db), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
               "KPI_PRESETS": str(self.workdir / "presets")}  # presets saved in the app stay here
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless",
             "true", "--server.port", str(self.port), "--server.address", "127.0.0.1"],
            cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        _wait_healthy(self.url, self.proc, log)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
            self.proc = None


@pytest.fixture(scope="session")
def server(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The app on its own copy of the demo database (the app holds the file's write lock)."""
    from kpi.auth import set_password
    from kpi.store import DuckDBStore

    workdir = tmp_path_factory.mktemp("e2e")
    db = workdir / "demo.duckdb"
    shutil.copy(demo_db, db)
    with DuckDBStore.open(db, read_only=False) as store:
        set_password(store, "rep-r002", REP_PASSWORD)
    app = AppServer(db, workdir)
    app.start()
    yield app
    app.stop()


@pytest.fixture
def empty_server(tmp_path: Path) -> Iterator[AppServer]:
    """The app on a brand-new, empty database (what a user starts from with their own data)."""
    from kpi.store import DuckDBStore

    db = tmp_path / "mine.duckdb"
    DuckDBStore.create(db).close()
    app = AppServer(db, tmp_path)
    app.start()
    yield app
    app.stop()


def open_browser() -> Iterator[Browser]:
    """Debian's Chromium under Playwright; tests/conftest.py's ``browser`` fixture holds the one
    of the session (Playwright's sync API cannot run twice at once in one process)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make test` (it installs Debian's "
                    "chromium as root) or `sudo apt-get install chromium`")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = watch(context.new_page())
    page.set_default_timeout(30_000)
    yield page
    forget(page)
    context.close()


def screenshot_dir() -> Path | None:
    """Where to keep screenshots: LEVERBOARD_SCREENSHOTS (``make screenshots`` sets docs/)."""
    target = os.environ.get("LEVERBOARD_SCREENSHOTS")
    return None if not target else (ROOT / target)
