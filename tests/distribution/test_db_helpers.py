"""The database helpers every batch uses, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

from sqlalchemy import select

from distribution import directory
from distribution.db import db, id_in
from distribution.models import Vendor


def test_id_in_picks_exactly_the_rows_named_and_none_for_no_ids(app):
    vendors = [directory.create_vendor(f"v{n}", f"Vendor {n}") for n in range(3)]
    db.session.commit()
    first, _second, third = (vendor.id for vendor in vendors)

    def picked(ids):
        return set(db.session.scalars(select(Vendor.id).where(id_in(Vendor.id, ids))))

    assert picked([first, third, third + 1000]) == {first, third}
    assert picked({first}) == {first}
    assert picked([]) == set()
