"""Browser fixtures: the real app served on a free local port, and Debian's chromium.

No browser is ever downloaded: Playwright drives /usr/bin/chromium. Without it
the browser tests skip with a reason on a developer machine and fail in CI.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from distribution import demo
from distribution.db import db

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture
def demo_seed(app: Flask) -> demo.DemoResult:
    """The Northwind demo seeded into the test database."""
    result = demo.seed_demo()
    db.session.remove()  # the server threads use their own sessions
    return result


@pytest.fixture
def live_server(app: Flask, demo_seed: demo.DemoResult) -> Iterator[str]:
    """The app served by werkzeug on 127.0.0.1 and a free port; yields its base URL."""
    app.config["SERVER_NAME"] = None  # the browser calls it by address, not by name
    app.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


class _CspWatchedBrowser:
    """The Playwright browser, with every context it opens listening for CSP violations.

    Chromium reports a resource or script the Content-Security-Policy blocked as
    a console error; the ``browser`` fixture fails the test on any of them.
    """

    def __init__(self, browser: object, violations: list[str]):
        self._browser = browser
        self._violations = violations

    def new_context(self, **kwargs: object) -> object:
        context = self._browser.new_context(**kwargs)
        context.on("console", self._note)
        return context

    def new_page(self, **kwargs: object) -> object:
        return self.new_context(**kwargs).new_page()

    def _note(self, message: object) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self._violations.append(f"{message.location.get('url')}: {message.text}")

    def __getattr__(self, name: str) -> object:
        return getattr(self._browser, name)


@pytest.fixture
def browser() -> Iterator[object]:
    """Debian's chromium under Playwright (skipped without it, except in CI).

    Fails the test if a page broke its Content-Security-Policy.
    """
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; CI must install it (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium to run this test)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        violations: list[str] = []
        try:
            yield _CspWatchedBrowser(chromium, violations)
        finally:
            chromium.close()
        assert violations == [], "Content-Security-Policy violations"


@pytest.fixture
def screenshots() -> Path:
    """Where the smoke journey leaves one screenshot per role."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def log_in(page, base_url: str, email: str, password: str, lands_on: str) -> None:
    """Log in through the login form and wait for the landing page."""
    from playwright.sync_api import expect

    page.goto(f"{base_url}/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base_url}{lands_on}")


def wait_until(condition: Callable[[], object], timeout: float = 10.0) -> bool:
    """Poll ``condition`` (work done by a background thread) until it holds or time runs out."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
