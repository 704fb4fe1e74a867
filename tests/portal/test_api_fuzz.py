"""Property-based fuzzing of the machine API against its own OpenAPI document.

Schemathesis reads /api/v1/openapi.json from the app itself and generates
requests for every documented operation, called in-process through WSGI (no
socket, no network). Every answer must be a documented status code with a
documented content type and a body that matches its schema, and never a 5xx.

The world holds leads, offers, pool leads and sales with small ids, the values
Hypothesis tries first, so the fuzzer reaches real records and not only 404s.
Each operation runs a bounded, derandomized number of examples: the same
requests on every run, in a few seconds.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection, not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from distribution import accounts, deals
from distribution.actors import Actor
from distribution.db import db
from distribution.models import Role
from distribution.people import invitations
from distribution.tenancy import Scope
from tests.handover import leads, publish, routed, rule, west_partner
from tests.portal.buyer_world import buyer_key, open_market, vendor_key
from tests.portal.test_partner_api import key_for


def management_key(vendor: Any) -> str:
    """A management (admin) key of ``vendor``, for the /vendor/... endpoints."""
    _key, plaintext = accounts.create_api_key(vendor, "management", admin=True)
    db.session.commit()
    return plaintext


# A raw e-mail is text on the wire: send generated strings as they are.
schemathesis.serializer.alias("message/rfc822", "text/plain")

MAX_EXAMPLES = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Negative data (a body or parameter the schema forbids) must be refused with a 4xx.
NEGATIVE_CHECKS = [*CHECKS, negative_data_rejection]


@pytest.fixture
def api_keys(app, world) -> Any:
    """Plaintext keys of a source, a partner, a buyer and the vendor's management tooling,
    over a small world with records."""
    with ExitStack() as stack:
        market = open_market(world, app, stack, return_auto_approve=False)
        vendor = market.a
        partner = west_partner(world, vendor, "West")
        world.user(Role.PARTNER_USER, vendor, email="west@example.com", partner=partner)
        widget = [{"field": "product", "op": "eq", "value": "Widget"}]
        gadget = [{"field": "product", "op": "eq", "value": "Gadget"}]
        publish(vendor, rule("Push", widget, "push_partner", partner_id=partner.id),
                rule("Pool", gadget, "pool"))  # fmt: skip
        for lead in leads(vendor, 3, prefix="offer") + leads(vendor, 3, "pool", product="Gadget"):
            routed(lead)
        for i in range(3):
            market.sell(market.x, prefix=f"sold{i}")
        for lead in leads(vendor, 3, "waiting", product="Other"):  # no rule: left unassigned
            routed(lead)
        invitations.invite(vendor, Actor.admin_key("lr_fuzz"), email="new@example.com",
                           name="New", role=Role.PARTNER_MANAGER)  # fmt: skip
        for domain in ("initech.com", "globex.com"):  # deal registrations to read and decide
            deal = {"company": domain, "domain": domain, "country": "US", "product": "Widget",
                    "value": 100}  # fmt: skip
            deals.register(Scope.for_partner(vendor.id, partner.id), deal, Actor.admin_key("fz"))
        db.session.commit()
        yield {
            "source": vendor_key(vendor),
            "partner": key_for(vendor, partner)["Authorization"].removeprefix("Bearer "),
            "buyer": buyer_key(market.x),
            "management": management_key(vendor),
        }


@pytest.fixture
def api_schema(app, api_keys):
    """The app's own OpenAPI document, loaded through WSGI."""
    app.config["SERVER_NAME"] = None  # schemathesis calls the app as "localhost"
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def _key_for(path: str, keys: dict[str, str]) -> str | None:
    if path.startswith("/fax/"):
        return None  # the signed token in the URL is the credential
    if path.startswith("/partner/"):
        return keys["partner"]
    if path.startswith("/buyer/"):
        return keys["buyer"]
    if path.startswith("/vendor/"):
        return keys["management"]  # every /vendor/... endpoint takes the vendor's management key
    return keys["source"]


def test_every_operation_keeps_its_documented_promises(api_schema, api_keys):
    """Each operation, with valid and with invalid input, against one world (built once)."""
    broken = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        key = _key_for(operation.path, api_keys)
        headers = {"Authorization": f"Bearer {key}"} if key else None
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            checks = NEGATIVE_CHECKS if mode is GenerationMode.NEGATIVE else CHECKS
            try:
                _fuzz(operation, mode, headers, checks)
            except Exception as exc:  # noqa: BLE001 - every operation's failure is reported
                broken.append(f"{operation.label} ({mode.value}): {exc!r}")
    assert not broken, "\n\n".join(broken)


def _fuzz(
    operation: Any, mode: GenerationMode, headers: dict[str, str] | None, checks: list[Any]
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def each(case: Any) -> None:
        try:
            case.call_and_validate(headers=headers, checks=checks)
        finally:
            # The test's app context outlives each request: start every call with a fresh
            # session, as a server's own request context would (a failed one stays aborted).
            db.session.remove()

    each()
