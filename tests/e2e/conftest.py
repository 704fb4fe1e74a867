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


# Serious and critical are the impacts the issue holds every page to; axe's
# minor and moderate findings are advice.
BLOCKING_IMPACTS = ("serious", "critical")


def check_a11y(page) -> None:
    """Run axe-core (bundled with axe-playwright-python) on the page as it is now.

    Fails naming every serious or critical violation, with the elements it found.
    """
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]
    lines = [
        f"{v['impact']} {v['id']}: {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:5])
        for v in blocking
    ]
    assert not lines, f"axe on {page.url}:\n" + "\n".join(lines)


# Computed in the page: each visible button's text colour against the first
# background behind it that is not transparent (semi-transparent layers are
# blended over what is under them), as WCAG 2 contrast ratios.
_CONTRAST_JS = """
() => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return [255, 255, 255, 1];
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const blend = (top, under) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat([1]);
  };
  const background = (el) => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const c = parse(getComputedStyle(node).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    let colour = [255, 255, 255, 1];
    for (const layer of layers.reverse()) colour = blend(layer, colour);
    return colour;
  };
  const luminance = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const found = [];
  for (const el of document.querySelectorAll("button, a.button, input[type=submit]")) {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!box.width || !box.height || style.visibility === "hidden") continue;
    const bg = background(el);
    const fg = blend(parse(style.color), bg);
    const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
    found.push({
      text: (el.innerText || el.value || "").trim().slice(0, 40),
      ratio: Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100,
      fg: style.color,
      bg: "rgb(" + bg.slice(0, 3).map(Math.round).join(", ") + ")",
    });
  }
  return found;
}
"""


def button_contrasts(page) -> list[dict]:
    """Every visible button and link-button on the page: text, ratio, colours."""
    return page.evaluate(_CONTRAST_JS)


def check_button_contrast(page, minimum: float = 4.5) -> None:
    """Fails if any visible button reads below ``minimum``:1 against what is behind it."""
    low = [b for b in button_contrasts(page) if b["ratio"] < minimum]
    assert not low, f"buttons under {minimum}:1 on {page.url}: {low}"


def check_no_sideways_scroll(page) -> None:
    """Fails if the page is wider than the viewport (it would scroll sideways)."""
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if width[0] > width[1]:
        sticking_out = page.evaluate(_STICKING_OUT_JS)
        raise AssertionError(
            f"{page.url} is {width[0]} px wide in a {width[1]} px window; "
            f"past the edge: {sticking_out}"
        )


# The innermost elements whose right edge passes the window's, to name the culprit.
_STICKING_OUT_JS = """
() => {
  const out = [];
  const past = (el) => el.getBoundingClientRect().right > window.innerWidth + 1;
  for (const el of document.querySelectorAll("main *")) {
    if (!past(el) || !el.getBoundingClientRect().width || [...el.children].some(past)) continue;
    const name = el.tagName.toLowerCase() + (el.className ? "." + el.className : "");
    out.push(name + " " + Math.round(el.getBoundingClientRect().right));
    if (out.length >= 5) break;
  }
  return out;
}
"""
