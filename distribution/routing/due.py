"""Vendors with leads waiting for routing, noted in the session that stored them.

Intake and publishing call ``mark_due``; once that session commits, the portal
(``portal.jobs``) enqueues ``routing.jobs.route_waiting`` for each vendor noted.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from distribution.db import db

_KEY = "leadrelay.routing_due"


def mark_due(vendor_id: int) -> None:
    """Note that ``vendor_id`` has leads to route once the current transaction commits."""
    db.session.info.setdefault(_KEY, set()).add(vendor_id)


def take_due(session: Session) -> set[int]:
    """The vendors noted in ``session`` since its last commit or rollback, forgetting them."""
    return session.info.pop(_KEY, set())
