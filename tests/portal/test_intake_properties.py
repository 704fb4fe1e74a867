"""Property: no body in any intake format makes a 500, and every lead answered is stored once.

Hypothesis builds JSON, form, ADF/XML, CSV and e-mail bodies from hostile pieces
(control characters, odd digits, deep nesting, huge numbers, broken markup) and
posts them through the real endpoints. The example counts are small and
derandomized: the same bodies on every run, in seconds.
"""

from __future__ import annotations

import itertools
import json
from email.message import EmailMessage
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from distribution import accounts
from distribution.db import db
from distribution.models import Lead

EXAMPLES = 25
_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

ODD = st.sampled_from(
    ["", " ", "²", "٣", "\x00", "\r\n", "<b>", "&amp;", "NaN", "Infinity", "1e9999",
     "9" * 5000, "555-555-0100", "+1 415 555 0132", "n/a", "CA", "Narnia", "a@b", "\ud7ff"]
)  # fmt: skip
TEXT = st.one_of(ODD, st.text(max_size=40))
NAMES = st.one_of(
    st.sampled_from(["email", "phone", "mobile", "country", "state", "zip", "first_name",
                     "extras", "1 bad<name>", "consent_email", "xml", ""]),
    st.text(max_size=12),
)  # fmt: skip
JSON_SCALARS = st.one_of(
    TEXT, st.booleans(), st.none(), st.integers(), st.floats(allow_nan=False, allow_infinity=False)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=3),
    max_leaves=8,
)
LEAD = st.dictionaries(NAMES, JSON_VALUES, max_size=8)


@pytest.fixture
def key(world) -> str:
    """A source key of a fresh vendor."""
    vendor = world.vendor("prop")
    _key, plaintext = accounts.create_api_key(vendor, "Fuzz")
    db.session.commit()
    return plaintext


def _lead_count() -> int:
    db.session.remove()
    return db.session.scalar(select(func.count()).select_from(Lead))


def _post(client, key: str, body: bytes, content_type: str, path: str = "/api/v1/leads"):
    before = _lead_count()
    response = client.post(
        path,
        data=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": content_type,
                 "Accept": "application/json"},
    )  # fmt: skip
    assert response.status_code < 500, (response.status_code, body[:200])
    answer = response.get_json()
    stored = _lead_count() - before
    if response.status_code in (201, 422) and "results" in answer:
        ids = [item["id"] for item in answer["results"]]
    elif response.status_code in (201, 422):
        ids = [answer["id"]]
    elif "stored_as" in answer:
        ids = [answer["stored_as"]["id"]]
    else:
        ids = []
    assert stored == len(ids) == len(set(ids)), (response.status_code, answer)
    return response


def _wrap_deep(depth: int, inner: str) -> str:
    return '{"x":' * depth + inner + "}" * depth


@_SETTINGS
@given(lead=st.one_of(LEAD, st.lists(LEAD, max_size=3)), depth=st.sampled_from([0, 0, 40, 5000]))
def test_json_bodies(client, key, lead, depth):
    body = json.dumps(lead, ensure_ascii=False, allow_nan=False)
    _post(client, key, _wrap_deep(depth, body).encode("utf-8", "surrogatepass"), "application/json")


@_SETTINGS
@given(pairs=st.lists(st.tuples(NAMES, TEXT), max_size=12), flood=st.sampled_from([0, 0, 600]))
def test_form_bodies(client, key, pairs, flood):
    pairs = pairs + [(f"f{i}", "v") for i in range(flood)]
    body = urlencode([(k.encode("utf-8", "surrogatepass"), v.encode("utf-8", "surrogatepass"))
                      for k, v in pairs]).encode()  # fmt: skip
    _post(client, key, body, "application/x-www-form-urlencoded")


def _xml_text(value: str) -> str:
    return "".join(c for c in value if c in "\t\n" or " " <= c < "\ud800").replace("&", "&amp;")


@_SETTINGS
@given(
    values=st.lists(TEXT, min_size=6, max_size=6),
    order=st.permutations(range(4)),
    broken=st.sampled_from(["", "", "<", "&bogus;", "<!DOCTYPE x [<!ENTITY a 'b'>]>"]),
)
def test_adf_bodies(client, key, values, order, broken):
    seq, name, email, phone, country, comment = (_xml_text(v).replace("<", "") for v in values)
    parts = [
        f'<id sequence="{seq.replace(chr(34), "")}">ID-1</id>',
        f"<customer><contact><name part='full'>{name}</name><email>{email}</email>"
        f"<phone>{phone}</phone><address><country>{country}</country></address></contact>"
        f"<comments>{comment}</comments></customer>",
        "<vehicle interest='buy'><make>Subaru</make></vehicle>",
        "<provider><name>Fuzz</name></provider>",
    ]
    prospect = "".join(parts[i] for i in order)
    body = f'<?xml version="1.0"?>{broken}<adf><prospect>{prospect}</prospect></adf>'
    _post(client, key, body.encode("utf-8", "surrogatepass"), "application/xml")


@_SETTINGS
@given(rows=st.lists(st.lists(TEXT, min_size=3, max_size=3), max_size=4))
def test_csv_bodies(client, key, rows):
    lines = ["email,phone,country"] + [",".join(v.replace(",", " ") for v in r) for r in rows]
    _post(client, key, "\n".join(lines).encode("utf-8", "surrogatepass"), "text/csv")


_MESSAGE_IDS = itertools.count()


@_SETTINGS
@given(
    text=st.lists(st.tuples(NAMES, TEXT), max_size=6),
    attach=st.booleans(),
    sequence=ODD,
)
def test_email_bodies(client, key, text, attach, sequence):
    mail = EmailMessage()
    mail["From"] = "leads@dealer.example.com"
    mail["Message-ID"] = f"<prop-{next(_MESSAGE_IDS)}@dealer.example.com>"
    lines = "\n".join(f"{k}: {v}" for k, v in text).encode("utf-8", "replace").decode()
    mail.set_content(lines or "no lead here")
    if attach:
        seq = _xml_text(sequence).replace('"', "").replace("<", "")
        adf = (f'<adf><prospect><id sequence="{seq}">X</id><customer><contact>'
               "<email>fuzz@example.com</email></contact></customer></prospect></adf>")  # fmt: skip
        mail.add_attachment(adf.encode(), maintype="application", subtype="xml")
    _post(client, key, bytes(mail), "message/rfc822", path="/api/v1/inbound/email")
