"""The management API for file drops: a drop set, read back without secrets, polled into
leads; field-named errors; another vendor's keys answer 404."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from distribution import accounts
from distribution.db import db
from distribution.jobs import runner
from distribution.models import FileDrop, Lead
from tests.portal.test_vendor_partners_api import management_key
from tests.sftp_peer import PASSWORD, USER, sftp_server

GOOD = "First Name,E-mail,Country\nAda,ada@example.com,US\nBad,nope,US\n"


@pytest.fixture(autouse=True)
def settled_at_once(app):
    """Files are taken as soon as they are seen (no wait for a writer to finish)."""
    app.config["DROP_SETTLE_SECONDS"] = 0


@pytest.fixture
def acme(app, world, tmp_path):
    """Vendor acme's management key and a source key; drops under a root of the test's."""
    app.config["DROP_FOLDER_ROOT"] = str(tmp_path / "drops")
    vendor = world.vendor("acme")
    key, _secret = accounts.create_api_key(vendor, "Nightly export")
    db.session.commit()
    return management_key(vendor), key


def url(key, tail=""):
    return f"/api/v1/vendor/keys/{key.id}/drop{tail}"


def test_a_local_drop_is_set_read_and_polled_into_leads(client, acme, tmp_path):
    auth, key = acme
    assert client.get(url(key), headers=auth).status_code == 404  # no drop yet
    saved = client.put(url(key), headers=auth, json={"kind": "folder", "path": "nightly"})
    assert saved.status_code == 200, saved.get_json()
    inbox = tmp_path / "drops" / "acme" / "nightly"
    assert inbox.is_dir()
    (inbox / "leads.csv").write_text(GOOD)

    polled = client.post(url(key, "/poll"), headers=auth)
    assert polled.status_code == 202 and polled.get_json()["status"] == "queued"
    runner.runner().wait_idle()
    db.session.expire_all()
    emails = db.session.scalars(select(Lead.email)).all()
    assert "ada@example.com" in emails
    assert (inbox / "done" / "leads.csv").is_file() and not (inbox / "leads.csv").exists()

    view = client.get(url(key), headers=auth).get_json()
    assert view["kind"] == "folder" and view["path"] == "nightly" and view["credentials"] == []
    assert view["last_polled_at"] and view["last_error"] is None
    [file] = view["files"]
    assert file["name"] == "leads.csv" and file["status"] == "done"
    assert (file["accepted"], file["rejected"]) == (1, 1)
    assert file["moved_to"] == "done/leads.csv"


def test_errors_name_each_field(client, acme):
    auth, key = acme
    junk = {"kind": "folder", "path": 7, "port": "22", "active": "yes", "colour": "red"}
    refused = client.put(url(key), headers=auth, json=junk)
    assert refused.status_code == 422
    fields = {e["field"] for e in refused.get_json()["errors"]}
    assert fields == {"path", "port", "active", "colour"}

    assert {
        e["field"] for e in client.put(url(key), headers=auth, json={}).get_json()["errors"]
    } == {"kind"}
    outside = client.put(url(key), headers=auth, json={"kind": "folder", "path": "../other"})
    assert outside.status_code == 422 and outside.get_json()["errors"][0]["field"] == "path"
    sftp = {"kind": "sftp", "host": "10.0.0.5", "path": "in"}
    named = client.put(url(key), headers=auth, json=sftp).get_json()["errors"]
    assert {"host", "path", "username", "password"} <= {e["field"] for e in named}
    assert db.session.scalars(select(FileDrop)).all() == []


def test_another_vendors_key_answers_404(client, acme, world):
    auth, key = acme
    client.put(url(key), headers=auth, json={"kind": "folder", "path": "nightly"})
    other = management_key(world.vendor("globex"))
    assert client.get(url(key), headers=other).status_code == 404
    assert client.post(url(key, "/poll"), headers=other).status_code == 404
    put = client.put(url(key), headers=other, json={"kind": "folder", "path": "x"})
    assert put.status_code == 404
    stored = db.session.scalars(select(FileDrop)).one()
    assert stored.path == "nightly"


def test_an_sftp_password_is_kept_and_never_shown(app, client, acme, tmp_path):
    auth, key = acme
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"
    (tmp_path / "sftp" / "in").mkdir(parents=True)
    with sftp_server(tmp_path / "sftp") as peer:
        body = {"kind": "sftp", "host": "127.0.0.1", "port": peer.port, "username": USER,
                "password": PASSWORD, "path": "/in"}  # fmt: skip
        saved = client.put(url(key), headers=auth, json=body)
        assert saved.status_code == 200, saved.get_json()
        assert PASSWORD not in saved.get_data(as_text=True)
        assert saved.get_json()["credentials"] == ["password"]

        del body["password"]  # left out: the stored one is kept
        changed = client.put(url(key), headers=auth, json=body)
        assert changed.status_code == 200, changed.get_json()
        (tmp_path / "sftp" / "in" / "a.csv").write_text(GOOD)
        assert client.post(url(key, "/poll"), headers=auth).status_code == 202
        runner.runner().wait_idle()
        view = client.get(url(key), headers=auth)
        assert PASSWORD not in view.get_data(as_text=True)
        shown = view.get_json()
        assert shown["last_error"] is None and shown["host_key_pinned"] is True
        assert [f["name"] for f in shown["files"]] == ["a.csv"]
        assert shown["files"][0]["status"] == "done"
