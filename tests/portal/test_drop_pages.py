"""The file drop page of a lead source: set up, errors shown, files listed, one vendor's only."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from distribution import accounts, drop_poll
from distribution.db import db
from distribution.models import FileDrop, Role
from tests.conftest import csrf_token
from tests.sftp_peer import PASSWORD, USER, sftp_server

GOOD = "First Name,E-mail,Country\nAda,ada@example.com,US\nBad,nope,US\n"


@pytest.fixture(autouse=True)
def settled_at_once(app):
    """Files are taken as soon as they are seen (no wait for a writer to finish)."""
    app.config["DROP_SETTLE_SECONDS"] = 0


@pytest.fixture
def acme(app, world, auth, tmp_path):
    """Vendor "acme", its admin logged in, and a source key; drops under a root of the test's."""
    app.config["DROP_FOLDER_ROOT"] = str(tmp_path / "drops")
    vendor = world.vendor("acme")
    world.user(Role.VENDOR_ADMIN, vendor, email="admin@acme.example.com")
    key, _secret = accounts.create_api_key(vendor, "Nightly export")
    db.session.commit()
    auth.login("admin@acme.example.com")
    return vendor, key


def save(client, key, **values):
    url = f"/vendor/keys/{key.id}/drop"
    data = {"csrf_token": csrf_token(client, url), "active": "y"} | values
    return client.post(url, data=data)


def test_a_local_drop_is_set_up_and_its_files_shown(client, acme, tmp_path):
    _vendor, key = acme
    assert f"/vendor/keys/{key.id}/drop" in client.get("/vendor/keys").get_data(as_text=True)
    assert save(client, key, kind="folder", path="nightly").status_code == 302
    inbox = tmp_path / "drops" / "acme" / "nightly"
    assert inbox.is_dir()
    (inbox / "leads.csv").write_text(GOOD)
    drop = db.session.scalars(select(FileDrop)).one()
    assert drop_poll.poll_drop(drop.id).done == ["leads.csv"]

    page = client.get(f"/vendor/keys/{key.id}/drop").get_data(as_text=True)
    assert "leads.csv" in page and "done/leads.csv" in page and "done" in page
    assert (inbox / "done" / "leads.csv.rejects.csv").is_file()


def test_a_folder_outside_the_vendors_root_is_refused(client, acme):
    _vendor, key = acme
    response = save(client, key, kind="folder", path="../other")
    assert response.status_code == 422
    assert "may not contain" in response.get_data(as_text=True)


def test_an_internal_sftp_host_is_refused(client, acme):
    _vendor, key = acme
    response = save(
        client, key, kind="sftp", host="10.0.0.5", port="22", username="u", password="p",
        path="/in",
    )  # fmt: skip
    assert response.status_code == 422
    assert "a private address" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(FileDrop.id))) == 0


def test_sftp_errors_are_shown_on_the_page_and_the_password_never(app, client, acme, tmp_path):
    _vendor, key = acme
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"
    (tmp_path / "sftp" / "in").mkdir(parents=True)
    with sftp_server(tmp_path / "sftp") as peer:
        common = {"kind": "sftp", "host": "127.0.0.1", "port": str(peer.port), "username": USER}
        assert save(client, key, **common, password="not-it", path="/in").status_code == 302
        drop = db.session.scalars(select(FileDrop)).one()
        assert "refused" in drop_poll.poll_drop(drop.id).error
        page = client.get(f"/vendor/keys/{key.id}/drop").get_data(as_text=True)
        assert "The last look failed" in page and "refused the user name, password or key" in page
        assert "not-it" not in page and "leave blank to keep" in page

        assert save(client, key, **common, password=PASSWORD, path="/gone").status_code == 302
        assert "does not exist" in drop_poll.poll_drop(drop.id).error
        page = client.get(f"/vendor/keys/{key.id}/drop").get_data(as_text=True)
        assert "the path /gone does not exist" in page and PASSWORD not in page

        assert save(client, key, **common, password="", path="/in").status_code == 302
        (tmp_path / "sftp" / "in" / "a.csv").write_text(GOOD)
        assert drop_poll.poll_drop(drop.id).done == ["a.csv"]
        page = client.get(f"/vendor/keys/{key.id}/drop").get_data(as_text=True)
        assert "The last look failed" not in page and "a.csv" in page


def test_a_vendor_sees_only_its_own_drops(client, acme, world, auth, tmp_path):
    _vendor, key = acme
    save(client, key, kind="folder", path="nightly")
    (tmp_path / "drops" / "acme" / "nightly" / "secret-leads.csv").write_text(GOOD)
    drop_poll.poll_drop(db.session.scalars(select(FileDrop)).one().id)
    auth.logout()

    other = world.vendor("globex")
    world.user(Role.VENDOR_ADMIN, other, email="admin@globex.example.com")
    own, _secret = accounts.create_api_key(other, "Globex source")
    db.session.commit()
    auth.login("admin@globex.example.com")
    assert client.get(f"/vendor/keys/{key.id}/drop").status_code == 404
    assert client.post(f"/vendor/keys/{key.id}/drop/poll").status_code in (400, 404)
    response = save(client, own, kind="folder", path="nightly")
    assert response.status_code == 302
    page = client.get(f"/vendor/keys/{own.id}/drop").get_data(as_text=True)
    assert "secret-leads.csv" not in page
    assert (tmp_path / "drops" / "globex" / "nightly").is_dir()  # its own folder, not acme's
