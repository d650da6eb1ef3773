"""Browser tests of the web UI: Playwright driving Debian's headless Chromium against a real server.

Each xdist worker starts one ``wayline server`` (embedded SQLite store, proxied local artifacts) and one
browser; each test gets a fresh browser context and logs its own data (unique names) through
:class:`~wayline.client.WaylineClient`. Every test leaves a screenshot in ``tests/e2e/screenshots/``.
Without Chromium the tests skip with the reason, except in CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wayline.client import WaylineClient

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def chromium_path() -> str | None:
    configured = os.environ.get("WAYLINE_CHROMIUM")
    if configured:
        return configured
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs Chromium for the browser tests: apt-get install chromium")
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def ui_bundle() -> Path:
    """The built UI; a stale bundle would test old code, so it must match ui/'s sources."""
    sys.path.insert(0, str(ROOT / "ui"))
    try:
        import build_ui
    finally:
        sys.path.pop(0)
    if not build_ui.is_fresh():
        pytest.fail("the web UI bundle is missing or stale: run `make ui` (make test does)")
    return Path(build_ui.BUNDLE_DIR)


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory: pytest.TempPathFactory, ui_bundle: Path) -> Iterator[Any]:
    from servers import start_server

    server = start_server(tmp_path_factory.mktemp("ui-server"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def base_url(ui_server: Any) -> str:
    url: str = ui_server.url
    return url


@pytest.fixture(scope="session")
def client(base_url: str) -> Iterator[WaylineClient]:
    with WaylineClient(base_url) as wayline_client:
        yield wayline_client


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Any]:
    """One browser per test module: Playwright's sync API keeps an asyncio loop running in this thread
    while it is started, which would break other modules' tests that run their own loop on this worker."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any, base_url: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page on the server; console errors fail the test, and a screenshot is saved after it."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1440, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    SCREENSHOTS.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    try:
        tab.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    finally:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def unique() -> str:
    """A short unique suffix for names this test creates on the shared server."""
    return uuid.uuid4().hex[:8]
