"""Issue 16 item 4: the destination form by kind, errors tied to their fields, plain-word
connection errors, post/redirect/get after a test, the menu, titles and the public form."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from distribution import destinations
from distribution.db import db
from distribution.models import Campaign, Destination, DestinationTest, Role, RuleSet
from tests.conftest import csrf_token
from tests.connectors.outbound_peers import BuyerEndpoint, free_port
from tests.handover import publish, rule
from tests.portal.test_destination_pages import NEW, create

KIND_FIELDS = {
    "http_json": {"url", "auth_type", "field_mapping", "answer_accepted"},
    "http_xml": {"url", "auth_type", "xml_template", "adf_vendor_name", "answer_accepted"},
    "email": {"email_to", "smtp_host", "smtp_password"},
    "fax": {
        "fax_number",
        "fax_gateway",
        "url",
        "auth_type",
        "answer_accepted",
        "smtp_host",
        "smtp_password",
    },
}
EVERY_FIELD = set().union(*KIND_FIELDS.values())


@pytest.fixture
def loopback(app):
    """Let 127.0.0.1 past the SSRF guard, the one way tests reach their peers."""
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"


@pytest.fixture
def vendor_admin(world, auth, loopback):
    """Vendor "acme" with the reseller "Pacific", and its admin logged in."""
    vendor = world.vendor("acme", "Acme Solar")
    world.partner(vendor, "Pacific", "reseller")
    world.user(Role.VENDOR_ADMIN, vendor, email="admin@acme.example.com")
    auth.login("admin@acme.example.com")
    return vendor


def input_names(page: str) -> set[str]:
    return set(re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', page))


def test_the_kind_comes_first_and_the_form_shows_only_its_fields(client, vendor_admin):
    first = client.get(NEW).get_data(as_text=True)
    assert input_names(first) - {"csrf_token"} == {"kind"}  # the radio buttons of step 1
    for kind, fields in KIND_FIELDS.items():
        names = input_names(client.get(f"{NEW}?kind={kind}").get_data(as_text=True))
        assert fields <= names, kind
        assert not (EVERY_FIELD - fields) & names, kind
    email = input_names(client.get(f"{NEW}?kind=email").get_data(as_text=True))
    assert not email & {"url", "field_mapping", "xml_template", "fax_number", "answer_accepted"}


def test_a_kind_change_on_edit_goes_through_the_same_step(client, vendor_admin):
    create(client, vendor_admin)
    destination = db.session.scalars(select(Destination)).one()
    edit = f"/vendor/destinations/{destination.id}/edit"
    assert "url" in input_names(client.get(edit).get_data(as_text=True))
    step = client.get(f"{edit}?change=kind").get_data(as_text=True)
    assert 'value="http_json" aria-describedby="kind-help-http_json" checked' in step
    names = input_names(client.get(f"{edit}?kind=email").get_data(as_text=True))
    assert "email_to" in names and "url" not in names

    token = csrf_token(client, f"{edit}?kind=email")
    saved = client.post(
        edit,
        data={
            "csrf_token": token,
            "name": "Pacific inbox",
            "kind": "email",
            "email_to": "leads@pacific.example.com",
            "email_from": "leads@acme.example.com",
            "smtp_host": "127.0.0.1",
        },
    )
    assert saved.status_code == 302
    db.session.refresh(destination)
    assert destination.kind.value == "email"


def test_each_error_sits_by_its_field_and_the_summary_links_to_it(client, vendor_admin):
    page = create(client, vendor_admin, url="http://10.0.0.1/leads").get_data(as_text=True)
    start = page.index('class="error-summary"')
    summary = page[start : page.index("</ul>", start)]
    assert 'href="#url"' in summary
    url_input = re.search(r'<input[^>]*\bid="url"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in url_input
    assert re.search(r'aria-describedby="[^"]*\berror-url\b', url_input)
    assert 'id="error-url"' in page


def test_an_unknown_host_reads_no_such_host(client, vendor_admin):
    response = create(client, vendor_admin, url="http://crm.no-such-host.invalid/leads")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "no such host: crm.no-such-host.invalid" in page
    assert "Errno" not in page and "Name or service not known" not in page


def test_a_test_to_a_closed_port_reads_connection_refused(client, vendor_admin):
    port = free_port()
    create(client, vendor_admin, url=f"http://127.0.0.1:{port}/leads")
    destination = db.session.scalars(select(Destination)).one()
    path = f"/vendor/destinations/{destination.id}"
    page = client.post(
        f"{path}/test", data={"csrf_token": csrf_token(client, path)}, follow_redirects=True
    ).get_data(as_text=True)
    assert f"connection refused by 127.0.0.1:{port}" in page
    assert "Errno" not in page


def test_reloading_after_send_a_test_does_not_send_again(client, vendor_admin):
    with BuyerEndpoint() as endpoint:
        endpoint.reply(200, {"status": "ok", "note": "<b>&"})
        create(client, vendor_admin, url=endpoint.url)
        destination = db.session.scalars(select(Destination)).one()
        path = f"/vendor/destinations/{destination.id}"
        response = client.post(f"{path}/test", data={"csrf_token": csrf_token(client, path)})
        assert response.status_code == 302
        assert len(endpoint.received) == 1
        for _reload in range(2):
            page = client.get(response.location).get_data(as_text=True)
            assert "<dt>Read as</dt>" in page and ">accepted<" in page
            assert "HTTP 200: accepted" not in page and "<dt>Error</dt>" not in page
            # The answer's JSON indented once and escaped once.
            assert (
                "{\n  &#34;status&#34;: &#34;ok&#34;,\n  &#34;note&#34;: &#34;&lt;b&gt;&amp;"
                in (page)
            )
            assert "&amp;#34;" not in page and "&amp;lt;" not in page
        assert len(endpoint.received) == 1


def test_another_destinations_test_is_not_shown(client, world, vendor_admin):
    with BuyerEndpoint() as endpoint:
        endpoint.reply(200, {"status": "ok"})
        create(client, vendor_admin, url=endpoint.url)
        create(client, vendor_admin, url=endpoint.url, name="Second")
        first, second = db.session.scalars(select(Destination).order_by(Destination.id)).all()
        path = f"/vendor/destinations/{first.id}"
        location = client.post(
            f"{path}/test", data={"csrf_token": csrf_token(client, path)}
        ).location
    test_id = location.split("test=")[1].split("#")[0]
    other = client.get(f"/vendor/destinations/{second.id}?test={test_id}").get_data(as_text=True)
    assert 'id="test-result"' not in other


def test_the_vendor_menu_has_destinations(client, vendor_admin):
    page = client.get("/vendor/destinations").get_data(as_text=True)
    nav = page[page.index('class="site-nav"') : page.index("</nav>")]
    assert 'href="/vendor/destinations" aria-current="page">Destinations</a>' in nav


def test_the_rule_set_title_is_text(client, vendor_admin):
    publish(vendor_admin, rule("West <b>coast</b>"))
    rule_set = db.session.scalars(select(RuleSet)).one()
    for path in ("/vendor/rules", f"/vendor/rules/{rule_set.id}"):
        page = client.get(path).get_data(as_text=True)
        title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
        assert "<" not in title and "&lt;" not in title, path


def test_the_apply_page_carries_the_vendor_and_its_colour_and_no_internal_footer(
    client, vendor_admin, auth
):
    refused = client.post(
        "/vendor/campaigns/brand",
        data={"csrf_token": csrf_token(client, "/vendor/campaigns"), "brand_colour": "red"},
    )
    assert refused.status_code == 422
    assert 'href="#brand_colour"' in refused.get_data(as_text=True)
    saved = client.post(
        "/vendor/campaigns/brand",
        data={"csrf_token": csrf_token(client, "/vendor/campaigns"), "brand_colour": "#FFD23F"},
    )
    assert saved.status_code == 302
    db.session.add(Campaign(vendor_id=vendor_admin.id, slug="spring", name="Spring", active=True))
    db.session.commit()
    auth.logout()

    page = client.get("/apply/acme/spring").get_data(as_text=True)
    assert "Acme Solar" in page
    assert "partner-channel lead distribution" not in page
    assert 'class="site-nav"' not in page
    assert 'href="/apply/acme/brand.css"' in page
    css = client.get("/apply/acme/brand.css")
    assert css.mimetype == "text/css"
    # A light yellow is darkened until white text on it is readable.
    brand = re.search(r"--brand: (#[0-9a-f]{6});", css.get_data(as_text=True)).group(1)
    assert brand != "#ffd23f"
    assert client.get("/apply/nobody/brand.css").status_code == 404


def test_a_destination_keeps_only_its_latest_test_results(client, vendor_admin):
    with BuyerEndpoint() as endpoint:
        create(client, vendor_admin, url=endpoint.url)
        destination = db.session.scalars(select(Destination)).one()
        path = f"/vendor/destinations/{destination.id}"
        token = csrf_token(client, path)
        for _ in range(destinations.TESTS_KEPT + 1):
            endpoint.reply(200, {"status": "ok"})
            client.post(f"{path}/test", data={"csrf_token": token})
        assert len(endpoint.received) == destinations.TESTS_KEPT + 1
    kept = db.session.scalars(select(DestinationTest.id).order_by(DestinationTest.id)).all()
    assert len(kept) == destinations.TESTS_KEPT
    assert 'id="test-result"' not in client.get(f"{path}?test={kept[0] - 1}").get_data(as_text=True)
