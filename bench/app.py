"""The portal plus a baseline endpoint, for benchmarks only (never deployed).

``POST /bench/insert-one`` inserts one lead-sized row into the same ``lead`` table
with a single statement: the cheapest thing a database-backed endpoint can do,
against which the real ingest path is measured.
"""

from __future__ import annotations

import json

from flask import Blueprint, request
from sqlalchemy import insert

from distribution import clock
from distribution.db import db
from distribution.models import Lead, LeadStatus
from portal import create_app
from portal.extensions import csrf

bp = Blueprint("bench", __name__)
csrf.exempt(bp)


@bp.route("/bench/insert-one", methods=["POST"])
def insert_one() -> tuple[dict[str, int], int]:
    body = request.get_data()
    data = json.loads(body)
    now = clock.now()
    row = db.session.execute(
        insert(Lead)
        .values(
            vendor_id=int(request.args["vendor"]),
            status=LeadStatus.RECEIVED,
            first_name=data.get("first_name"),
            last_name=data.get("last_name"),
            email=data.get("email"),
            phone=data.get("phone"),
            company=data.get("company"),
            country=data.get("country"),
            state=data.get("state"),
            postal_code=data.get("zip"),
            product=data.get("product"),
            raw_payload=body,
            raw_content_type="application/json",
            extras={},
            score=0,
            score_breakdown=[],
            errors=[],
            channel="api",
            route_attempts=0,
            received_at=now,
            updated_at=now,
        )
        .returning(Lead.id)
    ).scalar_one()
    db.session.commit()
    return {"id": row}, 201


def create_bench_app():
    app = create_app()
    app.register_blueprint(bp)
    return app


app = create_bench_app()
