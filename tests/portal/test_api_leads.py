"""POST /api/v1/leads end to end: every channel, every answer, nothing lost."""

from __future__ import annotations

import json
import threading

import pytest
from lxml import etree
from sqlalchemy import func, select

from distribution import accounts
from distribution.db import db
from distribution.models import IdempotencyRecord, Lead, LeadEvent, LeadStatus, Suppression
from tests.handover import sql_noted

ADF = b"""<?xml version="1.0" encoding="UTF-8"?>
<?adf version="1.0"?>
<adf>
 <prospect>
  <requestdate>2026-11-20T10:00:00-05:00</requestdate>
  <vehicle interest="buy" status="new">
   <year>2025</year><make>Subaru</make><model>Outback</model>
  </vehicle>
  <customer>
   <contact>
    <name part="first">Grace</name><name part="last">Hopper</name>
    <email>grace@navy.example.com</email>
    <phone type="voice">(415) 555-0132</phone>
    <address><street line="1">1 Main St</street><city>Oakland</city>
      <regioncode>CA</regioncode><postalcode>94607</postalcode><country>US</country></address>
   </contact>
   <comments>Wants a test drive on Saturday</comments>
  </customer>
  <provider><name>AutoLeads Inc</name></provider>
 </prospect>
</adf>"""


@pytest.fixture
def source(world):
    """A vendor and a source API key: (vendor, plaintext key)."""
    vendor = world.vendor("acme")
    _key, plaintext = accounts.create_api_key(vendor, "Website")
    db.session.commit()
    return vendor, plaintext


def post(client, key, body, content_type="application/json", **headers):
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    return client.post(
        "/api/v1/leads",
        data=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": content_type, **headers},
    )


def good_lead(**overrides):
    lead = {
        "first_name": "ada",
        "last_name": "LOVELACE",
        "email": "Ada@Analytical.example.com",
        "phone": "(415) 555-0132",
        "company": "Analytical Engines",
        "country": "United States",
        "state": "California",
        "zip": "94107",
        "product": "Widget Pro",
        "favourite_colour": "green",
    }
    return lead | overrides


def stored(lead_id: int) -> Lead:
    db.session.expire_all()
    return db.session.get(Lead, lead_id)


def test_a_json_lead_is_normalized_scored_and_stored(client, source):
    _vendor, key = source
    response = post(client, key, good_lead())
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "received"
    assert response.headers["Location"] == f"/api/v1/leads/{body['id']}"
    lead = stored(body["id"])
    assert (lead.first_name, lead.last_name) == ("Ada", "Lovelace")
    assert lead.email.endswith("@analytical.example.com")
    assert lead.phone == "+14155550132"
    assert (lead.country, lead.state, lead.postal_code) == ("US", "CA", "94107")
    assert lead.extras == {"favourite_colour": "green"}
    assert lead.grade in {"A", "B", "C", "D"} and lead.score > 0
    assert sum(item["points"] for item in lead.score_breakdown) == lead.score
    assert json.loads(lead.raw_payload)["last_name"] == "LOVELACE"
    assert [e.kind for e in lead.events] == ["received"]


def test_a_lone_lead_and_its_first_event_are_written_by_one_statement_on_postgresql(
    client, source, is_postgres
):
    _vendor, key = source
    with sql_noted() as statements:
        taken = post(client, key, good_lead()).get_json()
        refused = post(
            client, key, good_lead(country="Atlantis", phone="(415) 555-0199")
        ).get_json()
    writes = [s for s in statements if "INSERT" in s]
    if is_postgres:
        assert len(writes) == 2, writes  # one a lead
        assert all(s.startswith("WITH new_lead AS (INSERT INTO lead ") for s in writes), writes
        assert all("INSERT INTO lead_event " in s for s in writes), writes
    else:
        assert [s.split(" (")[0] for s in writes] == [
            "INSERT INTO lead",
            "INSERT INTO lead_event",
        ] * 2
    received, rejected = stored(taken["id"]).events, stored(refused["id"]).events
    assert [(e.kind, e.to_status, e.reason, e.data) for e in received] == [
        ("received", "received", None, {"channel": "api"})
    ]
    (first,) = rejected
    assert (first.kind, first.to_status, first.data["channel"]) == ("rejected", "rejected", "api")
    assert first.reason and "country" in first.reason
    assert [e["field"] for e in first.data["errors"]] == ["country"]
    assert first.vendor_id == stored(refused["id"]).vendor_id


def test_a_lone_lead_is_stored_column_for_column_as_the_same_lead_in_a_batch(client, source):
    """The lone lead's own statement (PostgreSQL) leaves its empty columns out; every
    column must still read as the batch path writes it, NULL and JSON null apart."""
    _vendor, key = source
    sparse = {"email": "grace@hopper.example.com", "country": "US", "favourite_colour": "blue"}
    alone = post(client, key, sparse).get_json()["id"]
    other = sparse | {"email": "anita@borg.example.com"}
    batch = post(client, key, [other, good_lead()]).get_json()
    in_batch = batch["results"][0]["id"]
    table = Lead.__table__
    differ = {"id", "email", "email_key", "raw_payload", "received_at", "updated_at"}
    columns = [c for c in table.c if c.name not in differ]
    query = select(*columns, *[c.is_(None).label(f"{c.name}_is_null") for c in columns])
    rows = {
        row.id: row._asdict()
        for row in db.session.execute(
            query.add_columns(table.c.id).where(table.c.id.in_([alone, in_batch]))
        )
    }
    first, second = rows[alone], rows[in_batch]
    first.pop("id"), second.pop("id")
    assert first == second
    assert first["status"] == LeadStatus.RECEIVED and first["phone_is_null"]


def test_the_lead_can_be_read_back_by_its_vendor_only(client, world, source):
    _vendor, key = source
    lead_id = post(client, key, good_lead()).get_json()["id"]
    response = client.get(f"/api/v1/leads/{lead_id}", headers={"X-API-Key": key})
    assert response.status_code == 200
    assert response.get_json()["email"].endswith("analytical.example.com")

    other = world.vendor("globex")
    _k, other_key = accounts.create_api_key(other, "Other")
    db.session.commit()
    assert (
        client.get(f"/api/v1/leads/{lead_id}", headers={"X-API-Key": other_key}).status_code == 404
    )


def test_an_invalid_lead_is_stored_rejected_and_the_sender_gets_422_naming_fields(client, source):
    _vendor, key = source
    response = post(
        client, key, {"first_name": "Bob", "email": "not-an-email", "country": "Atlantis"}
    )
    assert response.status_code == 422
    body = response.get_json()
    fields = {error["field"] for error in body["errors"]}
    assert {"email", "country"} <= fields
    lead = stored(body["id"])
    assert lead.status is LeadStatus.REJECTED
    assert json.loads(lead.raw_payload)["country"] == "Atlantis"
    assert {e["field"] for e in lead.errors} == fields


def test_malformed_json_is_400_and_still_kept(client, source):
    _vendor, key = source
    response = post(client, key, b'{"first_name": "Bob",')
    assert response.status_code == 400
    assert response.get_json()["error"] == "malformed_body"
    lead = stored(response.get_json()["stored_as"]["id"])
    assert lead.status is LeadStatus.REJECTED
    assert lead.raw_payload == b'{"first_name": "Bob",'


def test_a_batch_answers_one_result_per_item(client, source):
    _vendor, key = source
    batch = [good_lead(), good_lead(email="x@y", phone=""), good_lead(email="b@b.example.com")]
    response = post(client, key, batch)
    assert response.status_code == 201
    body = response.get_json()
    assert [r["status"] for r in body["results"]] == ["received", "rejected", "duplicate"]
    assert body["summary"] == {"received": 3, "accepted": 2, "rejected": 1}
    assert body["results"][2]["duplicate_of"] == body["results"][0]["id"]


def test_a_batch_over_the_vendor_limit_is_refused_whole(client, source):
    vendor, key = source
    vendor.settings = vendor.settings | {"batch_limit": 2}
    db.session.commit()
    response = post(client, key, [good_lead(), good_lead(), good_lead()])
    assert response.status_code == 413
    assert db.session.scalar(select(func.count(Lead.id))) == 0


def test_salesforce_web_to_lead_form_posts_work_without_setup(client, source):
    _vendor, key = source
    form = (
        "oid=00D000000000001&retURL=https%3A%2F%2Fexample.com%2Fthanks&first_name=Linus"
        "&last_name=Torvalds&email=linus%40kernel.example.com&company=Kernel&city=Portland"
        "&state=OR&zip=97201&country=US&lead_source=Webinar&00N5e00000ABCDE=blue"
    )
    response = post(client, key, form, "application/x-www-form-urlencoded")
    assert response.status_code == 201, response.get_json()
    lead = stored(response.get_json()["id"])
    assert (lead.last_name, lead.state, lead.postal_code, lead.source) == (
        "Torvalds",
        "OR",
        "97201",
        "Webinar",
    )
    assert lead.channel == "form"
    assert "oid" not in lead.extras and lead.extras.get("00N5e00000ABCDE") == "blue"


def test_vendor_field_aliases_apply_to_form_posts(client, source):
    vendor, key = source
    vendor.settings = vendor.settings | {"field_aliases": {"surname": "last_name"}}
    db.session.commit()
    response = post(
        client,
        key,
        "surname=Curie&email=marie%40radium.example.com&country=FR",
        "application/x-www-form-urlencoded",
    )
    assert response.status_code == 201, response.get_json()
    assert stored(response.get_json()["id"]).last_name == "Curie"


def test_adf_xml_gets_an_xml_answer(client, source):
    _vendor, key = source
    response = post(client, key, ADF, "application/xml")
    assert response.status_code == 201, response.data
    assert response.mimetype == "application/xml"
    answer = etree.fromstring(response.data)
    lead_id = int(answer.findtext("id"))
    lead = stored(lead_id)
    assert (lead.first_name, lead.last_name, lead.city, lead.state) == (
        "Grace",
        "Hopper",
        "Oakland",
        "CA",
    )
    assert "Outback" in lead.product
    assert lead.channel == "xml"


def test_vendor_xml_layouts_map_fields_by_xpath(client, source):
    vendor, key = source
    vendor.settings = vendor.settings | {
        "xml_layouts": [
            {
                "root": "leads",
                "record_xpath": "/leads/lead",
                "mapping": {
                    "first_name": "person/given/text()",
                    "last_name": "person/family/text()",
                    "email": "contact/@email",
                    "country": "string(contact/@country)",
                },
            }
        ]
    }
    db.session.commit()
    document = (
        b"<leads><lead><person><given>Alan</given><family>Turing</family></person>"
        b'<contact email="alan@bletchley.example.com" country="GB"/></lead>'
        b"<lead><person><given>Joan</given><family>Clarke</family></person>"
        b'<contact email="joan@bletchley.example.com" country="GB"/></lead></leads>'
    )
    response = post(client, key, document, "text/xml")
    assert response.status_code == 201, response.data
    names = db.session.scalars(select(Lead.last_name).order_by(Lead.id)).all()
    assert names == ["Turing", "Clarke"]


def test_an_xxe_document_is_refused_and_kept_without_reading_the_file(client, source):
    _vendor, key = source
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE adf [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<adf><prospect><customer><contact><name part='first'>&x;</name></contact>"
        b"</customer></prospect></adf>"
    )
    response = post(client, key, evil, "application/xml")
    assert response.status_code == 400
    assert b"root:" not in response.data
    assert etree.fromstring(response.data).findtext("error") == "unsafe_document"
    lead = db.session.scalars(select(Lead)).one()
    assert lead.status is LeadStatus.REJECTED
    assert b"root:" not in (lead.first_name or "").encode()


def test_csv_batches_are_mapped_by_their_headers(client, source):
    _vendor, key = source
    body = (
        "First Name,Last Name,Email,Country,Zip\n"
        "Katherine,Johnson,kj@nasa.example.com,US,23666\n"
        "Dorothy,Vaughan,,US,23666\n"
    )
    response = post(client, key, body, "text/csv")
    assert response.status_code == 201, response.get_json()
    statuses = [r["status"] for r in response.get_json()["results"]]
    assert statuses == ["received", "rejected"]


def test_the_same_idempotency_key_replays_the_first_answer(client, source):
    _vendor, key = source
    first = post(client, key, good_lead(), **{"Idempotency-Key": "order-42"})
    again = post(client, key, good_lead(), **{"Idempotency-Key": "order-42"})
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(select(func.count(Lead.id))) == 1

    changed = post(client, key, good_lead(first_name="Eve"), **{"Idempotency-Key": "order-42"})
    assert changed.status_code == 422
    assert changed.get_json()["error"] == "idempotency_key_reused"


def test_concurrent_requests_with_one_idempotency_key_store_one_lead(app, source, is_postgres):
    if not is_postgres:
        pytest.skip("SQLite serializes writers; the race is meaningful on PostgreSQL")
    _vendor, key = source
    answers = []

    def send():
        with app.test_client() as c:
            answers.append(post(c, key, good_lead(), **{"Idempotency-Key": "race"}).get_json())

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert db.session.scalar(select(func.count(Lead.id))) == 1
    assert db.session.scalar(select(func.count(IdempotencyRecord.id))) == 1
    assert len({a["id"] for a in answers}) == 1


def test_a_suppressed_contact_is_stored_as_suppressed_with_the_entry(client, source):
    vendor, key = source
    entry = Suppression(
        vendor_id=vendor.id, kind="domain", value="competitor.example.com", reason="competitor"
    )
    db.session.add(entry)
    db.session.commit()
    response = post(client, key, good_lead(email="spy@competitor.example.com"))
    assert response.status_code == 201
    lead = stored(response.get_json()["id"])
    assert lead.status is LeadStatus.SUPPRESSED
    assert lead.suppression_id == entry.id
    assert "competitor" in lead.status_reason


@pytest.mark.parametrize(
    "headers, status",
    [
        ({}, 401),
        ({"Authorization": "Bearer lr_not-a-real-key"}, 401),
    ],
)
def test_missing_or_unknown_keys_are_401(client, source, headers, status):
    response = client.post("/api/v1/leads", json=good_lead(), headers=headers)
    assert response.status_code == status
    assert "WWW-Authenticate" in response.headers


def test_revoked_keys_and_partner_keys_cannot_post(client, world, source):
    vendor, key = source
    api_key = accounts.find_api_key(key)
    accounts.revoke_api_key(api_key)
    partner = world.partner(vendor, "Reseller One")
    _pk, partner_key = accounts.create_api_key(vendor, "CRM", partner=partner)
    db.session.commit()
    assert post(client, key, good_lead()).status_code == 401
    assert post(client, partner_key, good_lead()).status_code == 403


def test_unknown_content_type_is_415_and_oversized_is_413(app, client, source):
    _vendor, key = source
    assert post(client, key, b"hello", "text/plain").status_code == 415
    app.config["INGEST_MAX_BYTES"] = 1000
    response = post(client, key, good_lead(description="x" * 2000))
    assert response.status_code == 413
    assert db.session.scalar(select(func.count(Lead.id))) == 0


def test_posting_is_rate_limited_per_key(app, client, source):
    _vendor, key = source
    app.config["INGEST_RATE_LIMIT"] = "2 per minute"
    codes = [
        post(client, key, good_lead(email=f"p{i}@x.example.com")).status_code for i in range(3)
    ]
    assert codes == [201, 201, 429]


def test_script_and_sql_in_fields_are_stored_as_text(client, source):
    _vendor, key = source
    response = post(
        client,
        key,
        good_lead(company="<script>alert(1)</script>", last_name="O'Neil'); DROP TABLE lead;--"),
    )
    assert response.status_code in (201, 422)
    lead = stored(response.get_json()["id"])
    assert lead.company == "<script>alert(1)</script>"
    assert db.session.scalar(select(func.count(LeadEvent.id))) == 1
