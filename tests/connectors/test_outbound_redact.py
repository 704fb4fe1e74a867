"""Masking contact details in stored request summaries, in every encoding a body uses."""

from __future__ import annotations

import html
import json
from urllib.parse import quote, quote_plus, urlencode

import pytest

from connectors.outbound.redact import MASK, mask_text

NAME = "Zoë O'Brien-Smith"
EMAIL = "zoe+leads@brien.example.com"
PHONE = "+353 1 555 0100"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(f"name={quote_plus(NAME)}&email={quote_plus(EMAIL)}", id="form"),
        pytest.param(f"name={quote(NAME)}&email={quote(EMAIL)}", id="percent"),
        pytest.param(urlencode({"n": NAME, "e": EMAIL, "p": PHONE}), id="urlencode"),
        pytest.param(json.dumps({"n": NAME, "e": EMAIL, "p": PHONE}), id="json-ascii"),
        pytest.param(json.dumps({"n": NAME + '"', "e": EMAIL}, ensure_ascii=False), id="json"),
        pytest.param(f"<n>{html.escape(NAME)}</n><e>{html.escape(EMAIL)}</e>", id="xml"),
        pytest.param(f"<n a='{html.escape(NAME, quote=False)}'/>{PHONE}", id="xml-text"),
        pytest.param(f"{NAME} <{EMAIL}> {PHONE}", id="plain"),
    ],
)
def test_every_encoding_of_a_contact_value_is_masked(body):
    masked = mask_text(body, (NAME, EMAIL, PHONE))
    assert MASK in masked
    for value in (NAME, EMAIL, PHONE):
        for encoded in (
            value, quote_plus(value), quote(value), html.escape(value),
            html.escape(value, quote=False), json.dumps(value)[1:-1],
            json.dumps(value, ensure_ascii=False)[1:-1],
        ):  # fmt: skip
            assert encoded not in masked, (encoded, masked)


def test_what_is_not_a_contact_value_stays():
    body = json.dumps({"company": "Brien & Sons", "email": EMAIL, "note": "50% off"})
    masked = mask_text(body, (EMAIL,))
    assert json.loads(masked) == {"company": "Brien & Sons", "email": MASK, "note": "50% off"}


def test_a_name_whose_only_encoding_is_plus_for_space_is_masked():
    assert mask_text("first=Ada&name=Ada+Lovelace&x=1", ("Ada Lovelace",)) == (
        f"first=Ada&name={MASK}&x=1"
    )
