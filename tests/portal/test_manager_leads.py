"""The manager's drill-down as a work list: sorted by any column, each row opens the lead,
and the manager nudges the partner holding it or reassigns it (on the fixed history)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from distribution import clock
from distribution.db import db
from distribution.models import (
    Assignment,
    AssignmentStatus,
    Delivery,
    DeliveryStatus,
    LeadEvent,
    LeadStatus,
    Role,
)
from distribution.outbox.drain import send_due
from tests.conftest import csrf_token
from tests.connectors.outbound_peers import SmtpInbox
from tests.handover import leads, west_partner
from tests.reports_data import REPORT_AT, build

WEEK = {"period": "custom", "from": "2026-01-05", "to": "2026-01-11"}
MANAGER = "manager@acme.example.com"
ROW = re.compile(r'<tr><td class="text"><a href="[^"]*">#(\d+) ')


@pytest.fixture
def history(world):
    """The fixed history read at its report time, a manager and a user of partner Beta."""
    h = build(world)
    world.user(Role.PARTNER_MANAGER, h.vendor, email=MANAGER)
    world.user(Role.PARTNER_USER, h.vendor, email="beta@acme.example.com", partner=h.beta)
    with clock.frozen_at(REPORT_AT):
        yield h


@pytest.fixture
def inbox(app):
    """A real SMTP server on 127.0.0.1 that the app's ``SMTP_URL`` points at."""
    with SmtpInbox() as server:
        app.config["SMTP_URL"] = f"smtp://127.0.0.1:{server.port}"
        yield server


def drilled(client, **params):
    response = client.get("/manager/leads", query_string=WEEK | params)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    return [int(i) for i in ROW.findall(body)], body


def ids(h, *names):
    return [h.leads[n].id for n in names]


def test_the_drill_down_sorts_by_any_column_both_ways_keeping_its_filters(client, auth, history):
    h = history
    auth.login(MANAGER)
    alpha = {"group": "partner", "key": h.alpha.id, "figure": "accepted"}
    # a1 won, a2 recalled, a5 returned, a6 lost: by status, then the other way round
    shown, body = drilled(client, **alpha, sort="status", dir="asc")
    assert shown == ids(h, "a6", "a2", "a5", "a1")
    assert '<th scope="col" aria-sort="ascending"><a class="sort-link"' in body
    assert shown[::-1] == drilled(client, **alpha, sort="status", dir="desc")[0]

    # every offer of the week by partner: Alpha's, Beta's, then Gamma's, and reversed
    week = {"group": "total", "key": "all", "figure": "offered"}
    names = {a.lead_id: a.partner.name for a in db.session.scalars(select(Assignment))}
    shown, body = drilled(client, **week, sort="partner", page="1")
    assert [names[i] for i in shown] == sorted(names[i] for i in shown)
    assert {names[i] for i in shown} == {"Alpha", "Beta", "Gamma"}
    descending, _ = drilled(client, **week, sort="partner", dir="desc")
    assert [names[i] for i in descending] == sorted((names[i] for i in shown), reverse=True)
    # the sorted header turns the order round and keeps the figure, the period and the page
    header = re.search(r'aria-sort="ascending"><a class="sort-link" href="([^"]+)"', body)
    link = header.group(1).replace("&amp;", "&")
    for part in ("sort=partner", "dir=desc", "figure=offered", "from=2026-01-05", "page=1"):
        assert part in link
    # an unknown column sorts as the page always did: oldest offer first
    default, _ = drilled(client, **alpha, sort="nonsense")
    assert default == ids(h, "a1", "a2", "a5", "a6")


def test_a_drill_down_row_opens_the_lead_and_another_vendors_lead_is_404(
    client, auth, world, history
):
    h = history
    auth.login(MANAGER)
    _shown, body = drilled(client, group="partner", key=h.beta.id, figure="offered")
    b2 = h.leads["b2"]
    link = re.search(rf'<a href="(/manager/leads/{b2.id}\?back=[^"]+)">#{b2.id} ', body)
    page = client.get(link.group(1).replace("&amp;", "&"))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"#{b2.id} {b2.full_name}" in text and "Back to the leads behind the figure" in text
    assert "Beta</a>" in text and "Hand-overs" in text and "Timeline" in text
    assert "accepted" in text.split('id="timeline"')[1]  # the timeline's events
    assert "Nudge Beta" in text and 'id="reassign"' in text

    other = world.vendor("other", "Other")
    (theirs,) = leads(other, 1, prefix="theirs")
    assert client.get(f"/manager/leads/{theirs.id}").status_code == 404
    token = csrf_token(client, f"/manager/leads/{b2.id}")
    for action in ("nudge", "reassign"):
        refused = client.post(f"/manager/leads/{theirs.id}/{action}", data={"csrf_token": token})
        assert refused.status_code == 404


def test_nudge_emails_the_partner_holding_the_lead_and_notes_it_on_the_timeline(
    client, auth, history, inbox
):
    h = history
    b2 = h.leads["b2"]  # Beta holds it (followed up, still working); Beta has no contact
    auth.login(MANAGER)
    here = f"/manager/leads?group=partner&key={h.beta.id}&figure=offered"
    token = csrf_token(client, f"/manager/leads/{b2.id}")

    response = client.post(f"/manager/leads/{b2.id}/nudge",
                           data={"csrf_token": token, "return_to": here})  # fmt: skip

    assert response.status_code == 302 and response.headers["Location"] == here
    flashed = client.get(here).get_data(as_text=True)
    assert f"Beta was e-mailed a reminder about lead #{b2.id}." in flashed
    event = db.session.scalars(
        select(LeadEvent).where(LeadEvent.lead_id == b2.id, LeadEvent.kind == "nudged")
    ).one()
    assert event.partner_id == h.beta.id and event.actor_user_id is not None
    assert event.reason == "Beta asked by e-mail how the lead is going"

    sent = send_due()  # the history's old offer mails are past their time: cancelled
    assert sent.get("delivered") == 1
    nudge = db.session.scalars(select(Delivery).where(Delivery.purpose == "nudge")).one()
    assert (nudge.lead_id, nudge.partner_id) == (b2.id, h.beta.id)
    assert nudge.status is DeliveryStatus.DELIVERED
    (mail,) = inbox.messages
    assert mail["To"] == "beta@acme.example.com"  # Beta's active user: it has no contact e-mail
    assert mail["Subject"].startswith(f"How is this lead going? #{b2.id}")
    assert (
        "Your partner manager asks how this lead is going"
        in mail.get_body(("plain",)).get_content()
    )


def test_nudge_on_a_lead_nobody_holds_is_refused_with_a_message(client, auth, history):
    h = history
    a1 = h.leads["a1"]  # won: nobody holds it any more
    auth.login(MANAGER)
    token = csrf_token(client, f"/manager/leads/{a1.id}")

    response = client.post(f"/manager/leads/{a1.id}/nudge", data={"csrf_token": token},
                           follow_redirects=True)  # fmt: skip

    text = response.get_data(as_text=True)
    assert f"Not sent: no partner holds lead #{a1.id} (it is won)" in text
    assert "nobody to nudge" in text
    assert db.session.scalar(select(Delivery).where(Delivery.purpose == "nudge")) is None
    kinds = db.session.scalars(select(LeadEvent.kind).where(LeadEvent.lead_id == a1.id)).all()
    assert "nudged" not in kinds


def test_reassign_takes_the_lead_from_its_partner_and_offers_it_to_another(
    client, auth, world, history
):
    h = history
    delta = west_partner(world, h.vendor, "Delta")  # covers Oregon, as Beta does
    b2 = h.leads["b2"]
    auth.login(MANAGER)
    token = csrf_token(client, f"/manager/leads/{b2.id}")

    response = client.post(f"/manager/leads/{b2.id}/reassign", follow_redirects=True,
                           data={"csrf_token": token, "partner_id": delta.id,
                                 "window_hours": "12"})  # fmt: skip

    text = response.get_data(as_text=True)
    assert f"Lead #{b2.id} taken back from Beta and offered to Delta." in text
    db.session.expire_all()
    assert b2.status is LeadStatus.OFFERED
    rows = db.session.scalars(
        select(Assignment).where(Assignment.lead_id == b2.id).order_by(Assignment.id)
    ).all()
    assert [(a.partner_id, a.status) for a in rows] == [
        (h.beta.id, AssignmentStatus.RECALLED),
        (delta.id, AssignmentStatus.OFFERED),
    ]
    # a missing partner is named beside its field, and nothing moves
    again = client.post(f"/manager/leads/{b2.id}/reassign",
                        data={"csrf_token": token, "partner_id": ""})  # fmt: skip
    assert again.status_code == 422
    assert "New partner: choose a partner" in again.get_data(as_text=True)


def test_a_partner_user_can_neither_nudge_nor_reassign(client, auth, world, history):
    h = history
    b2 = h.leads["b2"]
    auth.login("beta@acme.example.com")
    token = csrf_token(client, "/partner/")
    assert client.get(f"/manager/leads/{b2.id}").status_code == 403
    for action, data in (("nudge", {}), ("reassign", {"partner_id": h.alpha.id})):
        response = client.post(f"/manager/leads/{b2.id}/{action}",
                               data={"csrf_token": token, **data})  # fmt: skip
        assert response.status_code == 403
    db.session.expire_all()
    assert b2.status is LeadStatus.ASSIGNED
    assert db.session.scalar(select(Delivery).where(Delivery.purpose == "nudge")) is None
