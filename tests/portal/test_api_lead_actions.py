"""POST /api/v1/vendor/leads/{id}/actions: the same actions as the pages, for a management key."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from distribution import accounts
from distribution.db import db
from distribution.models import LeadEvent, LeadStatus
from tests.lead_actions import holding_vendor, lead_in

S = LeadStatus


@pytest.fixture
def managed(world):
    """A holding vendor and one of its admin keys: (vendor, first, second, headers)."""
    vendor, first, second = holding_vendor(world)
    _key, plaintext = accounts.create_api_key(vendor, "Tooling", admin=True)
    db.session.commit()
    return vendor, first, second, {"Authorization": f"Bearer {plaintext}"}


def call(client, lead_id, headers, **body):
    return client.post(f"/api/v1/vendor/leads/{lead_id}/actions", json=body, headers=headers)


def events(lead):
    return db.session.scalar(select(func.count()).where(LeadEvent.lead_id == lead.id))


def test_offer_answers_the_new_state_and_the_event_names_the_key(client, managed):
    vendor, first, _, headers = managed
    lead = lead_in(vendor, S.UNASSIGNED)

    answer = call(client, lead.id, headers, action="offer", partner_id=first.id, window_hours=12)

    assert answer.status_code == 200
    assert answer.json == {"lead_id": lead.id, "action": "offer", "status": "offered",
                           "message": "offered to Acme First for 12 hours"}  # fmt: skip
    last = db.session.scalars(
        select(LeadEvent).where(LeadEvent.lead_id == lead.id).order_by(LeadEvent.id.desc())
    ).first()
    assert last.kind == "offered" and last.actor.startswith("api-key:")
    assert last.data["via"] == "api"


def test_nurture_then_release_then_discard(client, managed):
    vendor, _, _, headers = managed
    lead = lead_in(vendor, S.UNASSIGNED)
    assert call(client, lead.id, headers, action="nurture", until="2099-01-01",
                min_score=80).json["status"] == "nurture"  # fmt: skip
    assert call(client, lead.id, headers, action="release").json["status"] == "unassigned"
    answer = call(client, lead.id, headers, action="discard", reason="a competitor's test")
    assert answer.json["status"] == "discarded"


def test_a_state_that_no_longer_allows_it_answers_409_and_changes_nothing(client, managed):
    vendor, first, _, headers = managed
    lead = lead_in(vendor, S.UNASSIGNED)
    call(client, lead.id, headers, action="discard", reason="spam")
    before = events(lead)

    answer = call(client, lead.id, headers, action="offer", partner_id=first.id)

    assert answer.status_code == 409
    assert answer.json["error"] == "action_refused" and answer.json["lead_status"] == "discarded"
    assert "is discarded now; to offer it must be unassigned or nurture" in answer.json["message"]
    assert events(lead) == before


def test_bad_settings_answer_422_naming_the_field(client, managed, world):
    vendor, _, _, headers = managed
    _, theirs, _ = holding_vendor(world, "other")
    lead = lead_in(vendor, S.UNASSIGNED)
    answer = call(client, lead.id, headers, action="offer", partner_id=theirs.id)
    assert answer.status_code == 422
    assert answer.json["errors"] == [
        {"field": "partner_id", "message": f"no partner '{theirs.id}' in this vendor"}
    ]
    answer = call(client, lead.id, headers, action="discard", reason="a\x00b")
    assert answer.status_code == 422 and answer.json["errors"][0]["field"] == "reason"


def test_another_vendors_lead_is_404_and_other_keys_are_refused(client, managed, world):
    vendor, first, _, headers = managed
    other, _, _ = holding_vendor(world, "other")
    foreign = lead_in(other, S.UNASSIGNED, prefix="foreign")
    answer = call(client, foreign.id, headers, action="discard", reason="x")
    assert answer.status_code == 404
    db.session.refresh(foreign)
    assert foreign.status is S.UNASSIGNED

    lead = lead_in(vendor, S.UNASSIGNED)
    _key, source = accounts.create_api_key(vendor, "Website")
    db.session.commit()
    source_headers = {"Authorization": f"Bearer {source}"}
    assert call(client, lead.id, source_headers, action="release").status_code == 403
    assert call(client, lead.id, {}, action="release").status_code == 401
    assert call(client, "99999999999999999999999", headers, action="release").status_code == 404


def test_the_document_describes_the_endpoint_with_the_management_key(client):
    doc = client.get("/api/v1/openapi.json").json
    operation = doc["paths"]["/vendor/leads/{lead_id}/actions"]["post"]
    assert operation["security"] == [{"managementKey": []}]
    assert "managementKey" in doc["components"]["securitySchemes"]
    assert {"200", "404", "409", "422"} <= set(operation["responses"])
