"""Partner pages: offers, the pool, working a lead, pause, and the e-mail links."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from distribution import audit, clock
from distribution.db import db
from distribution.errors import InvalidInput
from distribution.handover import offers, sweeper, work
from distribution.handover.base import Actor
from distribution.jobs.schedule import sweep_and_reschedule
from distribution.models import (
    Assignment,
    AssignmentStatus,
    FollowUpKind,
    LeadEvent,
    LeadStatus,
    Role,
    Vendor,
)
from distribution.outbox import links as outbox_links
from distribution.tenancy import Scope
from tests.conftest import csrf_token
from tests.handover import leads, publish, routed, rule, west_partner
from tests.portal.test_jobs_rq import redis_queue  # noqa: F401  (fixture)


@pytest.fixture
def desk(world):
    """Vendor Acme: partner West (with a user) gets pushes; Rival shares the pool."""
    vendor = world.vendor()
    west = west_partner(world, vendor, "West", states=["US-CA"])
    rival = west_partner(world, vendor, "Rival", states=["US-OR"])
    world.user(Role.PARTNER_USER, vendor, email="west@example.com", partner=west)
    return vendor, west, rival


def push(vendor, partner, count=1, prefix="push"):
    publish(vendor, rule("To West", action="push_partner", partner_id=partner.id,
                         acceptance_window_hours=4))  # fmt: skip
    stored = leads(vendor, count, prefix=prefix, last_name="Hiddenname")
    for lead in stored:
        routed(lead)
    return stored


def post(client, page, action, data=None):
    token = csrf_token(client, page)
    return client.post(action, data={"csrf_token": token, **(data or {})})


def assignment(lead):
    return db.session.scalars(
        select(Assignment).where(Assignment.lead_id == lead.id).order_by(Assignment.id.desc())
    ).first()


def test_accepting_an_offer_from_the_offers_page_shows_the_contact(client, auth, desk):
    vendor, west, _ = desk
    (lead,) = push(vendor, west)
    auth.login("west@example.com")
    page = client.get("/partner/offers").get_data(as_text=True)
    assert f"Lead #{lead.id}" in page and "3 h 59 min" in page
    assert "Hiddenname" not in page and "push0@example.com" not in page
    answer = post(client, "/partner/offers", f"/partner/offers/{lead.id}/accept")
    assert answer.status_code == 302
    shown = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "push0@example.com" in shown and "Log a follow-up" in shown
    assert assignment(lead).status is AssignmentStatus.ACCEPTED


def test_declining_needs_a_reason_and_an_expired_offer_cannot_be_accepted(client, auth, desk):
    vendor, west, _ = desk
    first, second = push(vendor, west, 2)
    auth.login("west@example.com")
    post(client, "/partner/offers", f"/partner/offers/{first.id}/decline",
         {"reason": "other", "note": ""})  # fmt: skip
    assert "say why you decline" in client.get("/partner/offers").get_data(as_text=True)
    post(client, "/partner/offers", f"/partner/offers/{first.id}/decline",
         {"reason": "no_capacity", "note": "busy"})  # fmt: skip
    assert assignment(first).status is AssignmentStatus.DECLINED
    clock.advance(timedelta(hours=5))
    answer = post(client, "/partner/offers", f"/partner/offers/{second.id}/accept")
    assert "has expired" in client.get(answer.headers["Location"]).get_data(as_text=True)
    assert assignment(second).status is AssignmentStatus.OFFERED


def test_claiming_from_the_pool_then_working_the_lead(client, auth, desk):
    vendor, west, _ = desk
    publish(vendor, rule("Pool", action="pool"))
    (lead,) = leads(vendor, 1, prefix="pooled", last_name="Hiddenname", phone="+14155550199")
    routed(lead)
    auth.login("west@example.com")
    page = client.get("/partner/pool?sort=score").get_data(as_text=True)
    assert f"#{lead.id}" in page and "US-CA" in page
    for secret in ("Hiddenname", "pooled0@example.com", "4155550199"):
        assert secret not in page
    answer = post(client, "/partner/pool", f"/partner/pool/{lead.id}/claim")
    assert answer.headers["Location"].endswith(f"/partner/leads/{lead.id}")
    lead_page = f"/partner/leads/{lead.id}"
    assert "Hiddenname" in client.get(lead_page).get_data(as_text=True)
    again = post(client, "/partner/pool", f"/partner/pool/{lead.id}/claim")  # a double click
    assert again.headers["Location"].endswith(lead_page)
    assert "is already yours" in client.get(lead_page).get_data(as_text=True)
    post(client, lead_page, f"{lead_page}/followups", {"kind": "call", "note": "Spoke at 10"})
    post(client, lead_page, f"{lead_page}/stage", {"stage": "qualified"})
    page = client.get(lead_page).get_data(as_text=True)
    assert "Spoke at 10" in page and "Stage: Qualified" in page
    post(client, lead_page, f"{lead_page}/won", {"amount": "1250.50"})
    held = assignment(lead)
    assert (held.status, held.won_amount_cents) == (AssignmentStatus.WON, 125050)
    assert lead.status is LeadStatus.WON


def test_returning_a_lead_and_the_lost_form(client, auth, desk):
    vendor, west, _ = desk
    kept, returned = push(vendor, west, 2)
    auth.login("west@example.com")
    for lead in (kept, returned):
        post(client, "/partner/offers", f"/partner/offers/{lead.id}/accept")
    page = f"/partner/leads/{returned.id}"
    answer = post(client, page, f"{page}/return", {"reason": "not_ready", "note": "Q3",
                                                   "confirm": "y"})  # fmt: skip
    assert answer.headers["Location"].endswith("/partner/leads")
    assert returned.status is LeadStatus.NURTURE
    page = f"/partner/leads/{kept.id}"
    post(client, page, f"{page}/followups", {"kind": "email"})
    post(client, page, f"{page}/lost", {"reason": "competitor", "confirm": "y"})
    assert assignment(kept).lost_reason == "competitor"
    # A closed lead keeps its page but offers no more actions.
    assert "Log a follow-up" not in client.get(page).get_data(as_text=True)


def test_lost_and_return_change_nothing_until_confirmed(client, auth, desk):
    vendor, west, _ = desk
    (lead,) = push(vendor, west)
    auth.login("west@example.com")
    post(client, "/partner/offers", f"/partner/offers/{lead.id}/accept")
    page = f"/partner/leads/{lead.id}"
    shown = client.get(page).get_data(as_text=True)
    assert "Yes, mark as lost" in shown and "Yes, return it to the vendor" in shown
    for action, data in (("lost", {"reason": "competitor"}), ("return", {"reason": "not_ready"})):
        for unconfirmed in ({}, {"confirm": ""}):
            answer = post(client, page, f"{page}/{action}", data | unconfirmed)
            assert answer.headers["Location"].endswith(page)
            db.session.expire_all()
            held = assignment(lead)
            assert (held.status, held.closed_at) == (AssignmentStatus.ACCEPTED, None), action
            assert "tick the box to confirm" in client.get(page).get_data(as_text=True)
    kinds = db.session.scalars(select(LeadEvent.kind).where(LeadEvent.lead_id == lead.id))
    assert not {"lost", "returned"} & set(kinds)
    post(client, page, f"{page}/lost", {"reason": "competitor", "confirm": "y"})
    assert assignment(lead).status is AssignmentStatus.LOST


def test_log_a_call_is_one_button_on_my_leads_and_the_lead_page(client, auth, desk):
    vendor, west, _ = desk
    (lead,) = push(vendor, west)
    auth.login("west@example.com")
    post(client, "/partner/offers", f"/partner/offers/{lead.id}/accept")
    action = f"/partner/leads/{lead.id}/followups"
    for page in ("/partner/leads", f"/partner/leads/{lead.id}"):
        shown = client.get(page).get_data(as_text=True)
        form = re.search(r'<form[^>]*action="([^"]+)"[^>]*aria-label="Log a call">(.*?)</form>',
                         shown, re.S)  # fmt: skip
        assert form is not None, page
        assert form.group(1) == action
        assert '<input type="hidden" name="kind" value="call">' in form.group(2)
        # The form carries everything: a tap posts just what it holds.
        fields = dict(re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', form.group(2)))
        answer = client.post(action, data=fields)
        assert answer.headers["Location"].endswith(f"/partner/leads/{lead.id}")
    calls = [f.kind for f in assignment(lead).followups]
    assert calls == [FollowUpKind.CALL, FollowUpKind.CALL]
    assert assignment(lead).status is AssignmentStatus.WORKING


def test_my_leads_shows_open_by_default_and_won_lost_returned_under_closed(client, auth, desk):
    vendor, west, rival = desk
    working, won, lost, returned = push(vendor, west, 4)
    auth.login("west@example.com")
    for lead in (working, won, lost, returned):
        post(client, "/partner/offers", f"/partner/offers/{lead.id}/accept")
    base = "/partner/leads/{}"
    post(client, base.format(won.id), base.format(won.id) + "/won", {"amount": "900"})
    post(client, base.format(lost.id), base.format(lost.id) + "/lost",
         {"reason": "competitor", "confirm": "y"})  # fmt: skip
    post(client, base.format(returned.id), base.format(returned.id) + "/return",
         {"reason": "not_ready", "confirm": "y"})  # fmt: skip

    def rows(url):
        page = client.get(url).get_data(as_text=True)
        return set(map(int, re.findall(r'<tr id="lead-(\d+)"', page))), page

    for url in ("/partner/leads", "/partner/leads?show=open", "/partner/leads?show=bogus"):
        assert rows(url)[0] == {working.id}, url
    shown, page = rows("/partner/leads?show=closed")
    assert shown == {won.id, lost.id, returned.id}
    assert "900.00" in page
    # Won and lost leads were held: their contact shows as links to call and write.
    assert 'href="mailto:push1@example.com"' in page and 'href="mailto:push2@example.com"' in page
    # A returned lead is no longer theirs: listed, but without its contact.
    assert "push3@example.com" not in page and f"Lead #{returned.id}" in page
    # Another partner's closed leads never show.
    (theirs,) = push(vendor, rival, 1, prefix="rival")
    as_rival = Scope.for_partner(vendor.id, rival.id)
    offers.accept(as_rival, theirs.id, Actor("test"))
    work.record_outcome(as_rival, theirs.id, "won", Actor("test"), amount_cents=100)
    db.session.commit()
    assert assignment(theirs).status is AssignmentStatus.WON
    assert rows("/partner/leads?show=closed")[0] == {won.id, lost.id, returned.id}


def test_held_leads_give_tel_and_mailto_links(client, auth, desk):
    vendor, west, _ = desk
    publish(vendor, rule("To West", action="push_partner", partner_id=west.id))
    (lead,) = leads(vendor, 1, prefix="dial", phone="+1 (415) 555-0142 ext. 7",
                    mobile="415.555.0199")  # fmt: skip
    routed(lead)
    auth.login("west@example.com")
    offered = client.get(f"/partner/leads/{lead.id}").get_data(as_text=True)
    assert "tel:" not in offered and "mailto:" not in offered  # not before accepting
    post(client, "/partner/offers", f"/partner/offers/{lead.id}/accept")
    for page in ("/partner/leads", f"/partner/leads/{lead.id}"):
        shown = client.get(page).get_data(as_text=True)
        assert 'href="tel:+14155550142;ext=7"' in shown, page
        assert 'href="tel:4155550199"' in shown, page
        assert 'href="mailto:dial0@example.com"' in shown, page


def test_pause_until_a_date_and_come_back(client, auth, desk):
    vendor, west, _ = desk
    auth.login("west@example.com")
    version = west.version
    until = (clock.now() + timedelta(days=3)).date()
    post(client, "/partner/pause", "/partner/pause", {"until": until.isoformat()})
    db.session.refresh(west)
    assert west.paused_until.date() == until + timedelta(days=1)
    # The same change a manager makes: a new version, and an entry naming who went away.
    assert west.version == version + 1
    entry = audit.entries(vendor, "partner", west.id)[0]
    assert "paused_until" in entry.changes and entry.actor.startswith("user:")
    assert "away until" in client.get("/partner/pause").get_data(as_text=True)
    post(client, "/partner/pause", "/partner/pause", {"until": "", "resume": "1"})
    db.session.refresh(west)
    assert west.paused_until is None
    post(client, "/partner/pause", "/partner/pause", {"until": "2001-01-01"})
    assert "pick today or a later day" in client.get("/partner/pause").get_data(as_text=True)


def test_counts_and_the_page_script(client, auth, desk):
    vendor, west, _ = desk
    push(vendor, west, 2)
    auth.login("west@example.com")
    counts = client.get("/partner/counts.json").get_json()
    assert (counts["offers"], counts["working"], counts["pool"]) == (2, 0, 0)
    page = client.get("/partner/").get_data(as_text=True)
    assert 'data-count="offers"' in page and "partner.js" in page
    assert client.get("/static/partner.js").status_code == 200


# --- e-mail links -------------------------------------------------------------------


def _path(url):
    return re.sub(r"^https?://[^/]+", "", url)


def test_an_email_accept_link_works_without_login_once(client, desk):
    vendor, west, _ = desk
    (lead,) = push(vendor, west)
    link = _path(outbox_links.offer_links(assignment(lead))["accept"])
    shown = client.get(link)
    assert shown.status_code == 200 and "Accept lead" in shown.get_data(as_text=True)
    assert assignment(lead).status is AssignmentStatus.OFFERED  # opening it does nothing
    done = post(client, link, link)
    assert done.status_code == 200 and "Lead accepted" in done.get_data(as_text=True)
    held = assignment(lead)
    assert (held.status, held.accepted_via) == (AssignmentStatus.ACCEPTED, "email")
    assert client.get(link).status_code == 409


def test_an_email_decline_link_takes_a_reason(client, desk):
    vendor, west, _ = desk
    (lead,) = push(vendor, west)
    link = _path(outbox_links.offer_links(assignment(lead))["decline"])
    done = post(client, link, link, {"reason": "outside_territory"})
    assert "Offer declined" in done.get_data(as_text=True)
    assert assignment(lead).decline_reason == "outside_territory"


def test_an_expired_offers_link_refuses(client, desk):
    vendor, west, _ = desk
    (lead,) = push(vendor, west)
    links = outbox_links.offer_links(assignment(lead))
    token = csrf_token(client, _path(links["accept"]))
    clock.advance(timedelta(hours=4, seconds=1))
    for url in links.values():
        assert client.get(_path(url)).status_code == 410
        refused = client.post(_path(url), data={"csrf_token": token, "reason": "no_capacity"})
        assert refused.status_code == 410
        assert "expired" in refused.get_data(as_text=True)
    assert assignment(lead).status is AssignmentStatus.OFFERED
    assert client.get("/offer-links/forged.token").status_code == 404


def test_the_sweep_command_moves_expired_offers_on(runner, desk):
    vendor, west, _ = desk
    (lead,) = push(vendor, west)
    clock.advance(timedelta(hours=5))
    result = runner.invoke(args=["sweep"])
    assert result.exit_code == 0, result.output
    assert "expired: 1" in result.output
    db.session.expire_all()
    assert assignment(lead).status is AssignmentStatus.EXPIRED


@pytest.mark.redis
def test_on_rq_the_sweeper_job_sweeps_and_books_its_next_run(app, desk, redis_queue):  # noqa: F811
    vendor, west, _ = desk
    push(vendor, west)
    clock.advance(timedelta(hours=5))
    app.extensions["leadrelay.jobs"] = redis_queue
    assert sweep_and_reschedule(sweeper.run, 60)["expired"] == 1
    assert len(redis_queue.queue.scheduled_job_registry.get_job_ids()) == 1


def test_the_vendor_decides_where_returned_leads_go(client, auth, world, desk):
    """ "Not ready" sends a lead to nurture by default; the vendor admin makes it go to
    another partner instead, and the next return follows that choice."""
    vendor, west, _rival = desk
    world.user(Role.VENDOR_ADMIN, vendor, email="admin@acme.example.com")
    other = world.vendor("globex")
    world.user(Role.VENDOR_ADMIN, other, email="admin@globex.example.com")
    auth.login("admin@acme.example.com")
    page = client.get("/vendor/partner-returns").get_data(as_text=True)
    assert "Not ready to buy" in page and "Keep it in nurture" in page
    assert "/vendor/partner-returns" in client.get("/vendor/partners").get_data(as_text=True)

    refused = post(client, "/vendor/partner-returns", "/vendor/partner-returns",
                   {"not_ready": "delete_it"})  # fmt: skip
    assert refused.status_code == 422 and "Not a valid choice" in refused.get_data(as_text=True)
    chosen = {reason: "nurture" for reason in work.RETURN_REASONS} | {"not_ready": "reroute"}
    saved = post(client, "/vendor/partner-returns", "/vendor/partner-returns", chosen)
    assert saved.status_code == 302
    db.session.refresh(vendor)
    assert work.return_dispositions(vendor)["not_ready"] == "reroute"
    assert work.return_dispositions(vendor)["wrong_territory"] == "nurture"
    # Another vendor's choices are its own.
    assert work.return_dispositions(db.session.get(Vendor, other.id))["not_ready"] == "nurture"

    # West returns a pushed lead as "not ready": routed again instead of nurtured, and
    # routing leaves West out, so nobody else being eligible, it waits unassigned.
    (lead,) = push(vendor, west)
    auth.logout()
    auth.login("west@example.com")
    post(client, "/partner/offers", f"/partner/offers/{lead.id}/accept")
    page = f"/partner/leads/{lead.id}"
    post(client, page, f"{page}/return", {"reason": "not_ready", "confirm": "y"})
    db.session.refresh(lead)
    assert lead.status is LeadStatus.UNASSIGNED
    returned = db.session.scalars(
        select(LeadEvent).where(LeadEvent.lead_id == lead.id, LeadEvent.kind == "returned")
    ).one()
    assert returned.data["disposition"] == "reroute"


def test_return_dispositions_name_the_bad_entry(world):
    vendor = world.vendor()
    with pytest.raises(InvalidInput) as refused:
        work.set_return_dispositions(vendor, {"not_ready": "bin", "lost_it": "nurture"})
    fields = {e.field: e.message for e in refused.value.errors}
    assert fields == {"lost_it": "is not a return reason",
                      "not_ready": "pick one of nurture, reroute"}  # fmt: skip
    assert work.return_dispositions(vendor)["not_ready"] == "nurture"  # nothing changed
