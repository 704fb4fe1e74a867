"""Issue 16 item 4 in a real browser, at 1366×900 and 390×844: the destination form by
kind, "send a test" and its result after a reload, a delivery's details and the public
quick-apply page, each without sideways scrolling, with screenshots."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from distribution.db import db
from distribution.demo import DEMO_SLUG
from distribution.directory import find_vendor
from distribution.models import Campaign, Delivery, DeliveryAttempt
from distribution.vendor_settings import save_brand_colour
from tests.connectors.outbound_peers import BuyerEndpoint
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1366, 900), "phone": (390, 844)}
ADMIN = "ava.admin@northwind.example.com"
# A long answer, as CRMs send: it must wrap, indented once.
ANSWER = {"status": "accepted", "id": "CRM-2231", "notes": ["x" * 400, "<b>&</b>"]}


@pytest.fixture
def campaign(app, demo_seed):
    """A quick-apply campaign of the demo vendor, in its own colour."""
    vendor = find_vendor(DEMO_SLUG)
    save_brand_colour(vendor, "#7a1f5c")
    db.session.add(
        Campaign(vendor_id=vendor.id, slug="spring-solar", name="Spring solar check", active=True)
    )
    db.session.commit()
    db.session.remove()
    return "/apply/northwind/spring-solar"


def no_sideways_scroll(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def test_destination_form_test_result_delivery_and_apply_page(
    app, live_server, campaign, browser, screenshots
):
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"
    delivered = db.session.scalars(
        select(Delivery.id).join(DeliveryAttempt).where(DeliveryAttempt.response_body.is_not(None))
    ).first()
    db.session.remove()
    with BuyerEndpoint() as endpoint:
        for name, (width, height) in SIZES.items():
            page = browser.new_context(viewport={"width": width, "height": height}).new_page()
            log_in(page, live_server, ADMIN, "northwind-demo", "/vendor/")

            # Destinations is in the menu; a new one starts with its kind.
            page.get_by_role("navigation", name="Main").get_by_role(
                "link", name="Destinations"
            ).click()
            page.get_by_role("link", name="Add a destination").first.click()
            page.get_by_label("HTTP JSON post").check()
            page.get_by_role("button", name="Continue").click()
            expect(page.locator("input[name=url]")).to_be_visible()
            assert page.locator("input[name=email_to], input[name=fax_number]").count() == 0
            form_height = page.evaluate("document.body.scrollHeight")
            print(f"destination form (HTTP JSON) at {width}x{height}: {form_height} px tall")
            no_sideways_scroll(page, width)
            page.screenshot(
                path=str(screenshots / f"after-destination-form-{name}.png"), full_page=True
            )

            # An error links from the summary to its field.
            page.locator("select[name=owner]").select_option(index=1)
            page.fill("input[name=name]", f"Test CRM {name}")
            page.fill("input[name=url]", "http://crm.no-such-host.invalid/leads")
            page.get_by_role("button", name="Save").click()
            summary = page.locator(".error-summary")
            expect(summary).to_contain_text("no such host: crm.no-such-host.invalid")
            summary.get_by_role("link").first.click()
            expect(page.locator("input[name=url]")).to_have_attribute("aria-invalid", "true")

            page.fill("input[name=url]", endpoint.url)
            page.get_by_role("button", name="Save").click()
            expect(page.get_by_text(f"Destination 'Test CRM {name}' saved")).to_be_visible()

            # Send a test; its result is on the page redirected to, and a reload resends nothing.
            endpoint.reply(200, ANSWER)
            sent = len(endpoint.received)
            page.get_by_role("button", name="Send a test").click()
            result = page.locator("#test")
            expect(result).to_contain_text("accepted")
            page.reload()
            expect(result).to_contain_text("CRM-2231")
            assert len(endpoint.received) == sent + 1
            assert "Error" not in result.inner_text()
            no_sideways_scroll(page, width)
            result.scroll_into_view_if_needed()
            page.screenshot(path=str(screenshots / f"destination-test-{name}.png"), full_page=True)

            page.goto(f"{live_server}/vendor/deliveries/{delivered}")
            expect(page.locator("#attempt-1")).to_be_visible()
            no_sideways_scroll(page, width)
            page.screenshot(
                path=str(screenshots / f"after-delivery-detail-{name}.png"), full_page=True
            )
            page.context.close()

            # The public page: the vendor's name and colour, no staff footer.
            public = browser.new_context(viewport={"width": width, "height": height}).new_page()
            public.goto(f"{live_server}{campaign}")
            expect(public.locator(".public-brand")).to_have_text("Northwind Devices")
            expect(public.locator("footer")).not_to_contain_text("partner-channel")
            colour = public.locator("button.primary").evaluate(
                "b => getComputedStyle(b).backgroundColor"
            )
            assert colour == "rgb(122, 31, 92)"
            no_sideways_scroll(public, width)
            public.screenshot(path=str(screenshots / f"public-apply-{name}.png"), full_page=True)
            public.context.close()
