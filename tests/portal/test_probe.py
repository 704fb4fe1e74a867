"""The outside probe's attack classes, rerun by ``bench.probe`` at a small scale (issue 17).

One run against two tenants on the test database; each class must have tried
something and found no leak, no 500 and no other failure (an internal host
saved, a forged header obeyed, a replayed cookie let in, a header missing,
markup shown unescaped or a formula left live).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.probe import Scale, run, table
from bench.probe_kit import Tally
from distribution.db import db
from portal import create_app
from portal.extensions import limiter
from tests.conftest import _empty_tables, _test_config

SMALL = Scale(leads=1, ids_per_table=2, forged=2)
CLASSES = [
    "cross-tenant reads", "SMTP and fax hosts", "proxied clients", "odd numerics",
    "deep JSON, huge integers", "XML attacks", "sessions after logout", "security headers",
    "injection (XSS, CSV)",
]  # fmt: skip


@pytest.fixture(scope="module")
def probed(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The tallies of one small probe run, by class; the tables are emptied afterwards."""
    instance = tmp_path_factory.mktemp("probe")
    app = create_app(_test_config(database_url, Path(instance)))
    proxied = create_app(_test_config(database_url, Path(instance)) | {"TRUSTED_PROXIES": 1})
    limiter.reset()
    try:
        tallies = run(app, proxied, SMALL)
        print(table(tallies))
        yield {t.name: t for t in tallies}
    finally:
        limiter.reset()
        with app.app_context():
            db.session.remove()
            _empty_tables()
            db.engine.dispose()


@pytest.mark.parametrize("name", CLASSES)
def test_the_probe_finds_no_leak_no_500_and_no_failure(probed: dict[str, Tally], name: str):
    tally = probed[name]
    assert tally.attempts > 0, "the class tried nothing"
    assert (tally.leaks, tally.errors, tally.failures) == (0, 0, 0), tally.notes


def test_the_probe_tried_a_few_hundred_things_and_most_were_refused(probed: dict[str, Tally]):
    attempts = sum(t.attempts for t in probed.values())
    refused = sum(t.refused for t in probed.values())
    assert attempts >= 300
    assert probed["cross-tenant reads"].refused > probed["cross-tenant reads"].attempts / 2
    assert refused > 0
