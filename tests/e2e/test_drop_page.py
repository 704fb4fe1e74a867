"""The file drop page of a source, at 1366×900 and 390×844: readable, accessible, no sideways
scroll, with a drop error and a file with long names in its list."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from distribution import accounts, drop_poll, drops
from distribution.db import db
from distribution.models import Vendor
from tests.e2e.conftest import (
    check_a11y,
    check_button_contrast,
    check_no_sideways_scroll,
    log_in,
)

pytestmark = pytest.mark.browser

SIZES = (("desktop", 1366, 900), ("phone", 390, 844))


def test_the_drop_page_reads_at_both_sizes(app, live_server, browser, screenshots, tmp_path):
    app.config["DROP_FOLDER_ROOT"] = str(tmp_path / "drops")
    app.config["DROP_SETTLE_SECONDS"] = 0
    vendor = db.session.scalars(select(Vendor).where(Vendor.slug == "northwind")).one()
    key, _secret = accounts.create_api_key(vendor, "Nightly partner export")
    drop = drops.save_drop(vendor, key, {"kind": "folder", "path": "nightly"})
    db.session.commit()
    inbox = tmp_path / "drops" / "northwind" / "nightly"
    (inbox / "a-very-long-file-name-from-the-partner-system-2026-12-06.csv").write_text(
        "E-mail,Country\nada@example.com,US\nnot-an-email,US\n"
    )
    drop_poll.poll_drop(drop.id)
    drop.path = "nightly/../../escape"  # as an old row might hold: the page shows its error
    db.session.commit()
    drop_poll.poll_drop(drop.id)
    key_id = key.id
    db.session.remove()

    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    log_in(page, live_server, "ava.admin@northwind.example.com", "northwind-demo", "/vendor/")
    response = page.goto(f"{live_server}/vendor/keys/{key_id}/drop")
    assert response is not None and response.ok
    assert "The last look failed" in page.content()
    problems = []
    for size, width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_function("w => document.documentElement.dataset.tablesWidth == w", arg=width)
        page.screenshot(
            path=str(screenshots / f"vendor_admin-source-drop-{size}.png"), full_page=True
        )
        checks = [check_a11y, check_button_contrast]
        if size == "phone":
            checks.append(check_no_sideways_scroll)
        for check in checks:
            try:
                check(page)
            except AssertionError as failure:
                problems.append(f"[{size}] {failure}")
    assert not problems, "\n\n".join(problems)
