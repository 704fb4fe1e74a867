"""Helpers for the hand-over tests (offers, pool, partner pages and API).

Leads are stored as intake leaves them (received, with their first event) but
without running intake itself, so these tests do not hang on its scoring and
duplicate rules; routing, offers and the pool then run for real.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from distribution import events
from distribution.db import db
from distribution.models import Lead, LeadStatus, Partner, Vendor
from distribution.routing import Decision, route, rules


def leads(vendor: Vendor, count: int = 1, prefix: str = "lead", **fields: Any) -> list[Lead]:
    """``count`` received leads in San Francisco wanting a Widget (``fields`` override)."""
    stored = []
    for i in range(count):
        values = {
            "first_name": "Pat",
            "last_name": f"Lead{i}",
            "email": f"{prefix}{i}@example.com",
            "country": "US",
            "state": "CA",
            "city": "San Francisco",
            "postal_code": "94107",
            "product": "Widget",
            "score": 50 + i % 50,
            "grade": "B",
        } | fields
        lead = Lead(vendor_id=vendor.id, status=LeadStatus.RECEIVED, extras={}, **values)
        db.session.add(lead)
        db.session.flush()
        events.record(lead, "received", to_status="received", actor="test")
        stored.append(lead)
    db.session.commit()
    return stored


def rule(name: str = "Rule", conditions: tuple = (), action: str = "push_group", **params: Any):
    """A rule spec as ``rules.draft`` takes it; clock settings are keywords too."""
    clocks = {
        key: params.pop(key, None)
        for key in ("acceptance_window_hours", "exclusive_hours", "followup_sla_hours")
    }
    return {"name": name, "conditions": list(conditions), "action": action,
            "action_params": params} | clocks  # fmt: skip


def publish(vendor: Vendor, *specs: dict[str, Any]) -> None:
    rules.publish(rules.draft(vendor, list(specs)))
    db.session.commit()


def routed(lead: Lead) -> Decision | None:
    decision = route(lead)
    db.session.commit()
    return decision


def west_partner(world: Any, vendor: Vendor, name: str, **kw: Any) -> Partner:
    """A reseller covering California and Oregon unless ``kw`` says otherwise."""
    kw = {"countries": ["US"], "states": ["US-CA", "US-OR"]} | kw
    return world.partner(vendor, name, "reseller", **kw)


@contextmanager
def sql_noted() -> Iterator[list[str]]:
    """Every statement sent to the database inside the block, its whitespace folded."""
    statements: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
