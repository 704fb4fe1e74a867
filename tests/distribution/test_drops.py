"""File drops: each file of a source's folder (local or SFTP) imported once, then moved aside."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connectors.drops import DropEntry
from distribution import accounts, clock, drop_poll, drops
from distribution.db import db
from distribution.errors import InvalidInput
from distribution.intake import settings as intake_settings
from distribution.models import DropFile, DropFileStatus, Job, JobStatus, Lead, LeadStatus
from tests.sftp_peer import PASSWORD, USER, sftp_server

GOOD = "First Name,Last Name,E-mail,Country\nAda,Lovelace,ada@example.com,US\n"
MIXED = GOOD + "Bad,Row,not-an-email,US\nGrace,Hopper,grace@example.com,US\n"
ADF = (
    b'<?xml version="1.0"?><adf><prospect><customer><contact>'
    b'<name part="first">Karl</name><name part="last">Benz</name>'
    b"<email>karl@example.com</email></contact></customer></prospect></adf>"
)


class Killed(BaseException):
    """A worker's death in the middle of a file (nothing below catches it)."""


@pytest.fixture(autouse=True)
def settled_at_once(app):
    """Files are taken as soon as they are seen (no wait for a writer to finish)."""
    app.config["DROP_SETTLE_SECONDS"] = 0


@pytest.fixture
def drop_root(app, tmp_path):
    """Local drops live under a root of the test's own."""
    app.config["DROP_FOLDER_ROOT"] = str(tmp_path / "drops")
    return tmp_path / "drops"


@pytest.fixture
def source(world):
    """Vendor "acme" and one of its source keys."""
    vendor = world.vendor("acme")
    key, _secret = accounts.create_api_key(vendor, "Partner uploads")
    db.session.commit()
    return vendor, key


@pytest.fixture
def sftp(app, tmp_path):
    """A real SFTP server on 127.0.0.1 with an inbox folder; loopback allowed as in tests."""
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"
    root = tmp_path / "sftp-root"
    (root / "inbox").mkdir(parents=True)
    with sftp_server(root) as peer:
        yield peer


def sftp_drop(source, peer, **changes):
    vendor, key = source
    values = {
        "kind": "sftp",
        "host": "127.0.0.1",
        "port": peer.port,
        "username": USER,
        "password": PASSWORD,
        "path": "/inbox",
    } | changes
    drop = drops.save_drop(vendor, key, values)
    db.session.commit()
    return drop


def folder_drop(source, path="partner-a"):
    vendor, key = source
    drop = drops.save_drop(vendor, key, {"kind": "folder", "path": path})
    db.session.commit()
    return drop


def leads_of(job_id):
    return db.session.scalar(select(func.count(Lead.id)).where(Lead.import_job_id == job_id))


def rows_of(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text())))


def test_a_local_drop_imports_each_file_once_and_moves_it_to_done(source, drop_root):
    drop = folder_drop(source)
    inbox = drop_root / "acme" / "partner-a"
    (inbox / "monday.csv").write_text(MIXED)
    (inbox / "notes.pdf").write_text("not a lead file")

    result = drop_poll.poll_drop(drop.id)

    assert result.done == ["monday.csv"] and result.error is None
    row = db.session.scalars(select(DropFile)).one()
    assert (row.status, row.accepted, row.rejected) == (DropFileStatus.DONE, 2, 1)
    assert row.moved_to == "done/monday.csv"
    assert sorted(p.name for p in (inbox / "done").iterdir()) == [
        "monday.csv",
        "monday.csv.rejects.csv",
    ]
    rejects = rows_of(inbox / "done" / "monday.csv.rejects.csv")
    assert rejects[0] == ["row", "reason", "values"]
    assert [r[0] for r in rejects[1:]] == ["3"] and "email" in rejects[1][1]
    assert (inbox / "notes.pdf").exists()  # not ours to touch
    leads = db.session.scalars(select(Lead).where(Lead.import_job_id == row.job_id)).all()
    assert len(leads) == 3 and {lead.api_key_id for lead in leads} == {source[1].id}

    assert drop_poll.poll_drop(drop.id).done == []  # nothing new: nothing imported again
    assert leads_of(row.job_id) == 3


def test_a_file_still_being_written_waits_for_a_later_poll(app, source, drop_root):
    app.config["DROP_SETTLE_SECONDS"] = 60
    drop = folder_drop(source)
    (drop_root / "acme" / "partner-a" / "growing.csv").write_text(GOOD)
    assert drop_poll.poll_drop(drop.id).waiting == 1
    assert db.session.scalar(select(func.count(DropFile.id))) == 0
    clock.advance(timedelta(minutes=2))
    assert drop_poll.poll_drop(drop.id).done == ["growing.csv"]


def test_the_sources_saved_aliases_map_the_columns(source, drop_root):
    vendor, key = source
    intake_settings.update(vendor, sender_aliases={str(key.id): {"Mail": "email"}})
    db.session.commit()
    drop = folder_drop(source)
    sheet = "Name,Mail\nAda Lovelace,a@example.com\n"
    (drop_root / "acme" / "partner-a" / "x.csv").write_text(sheet)

    assert drop_poll.poll_drop(drop.id).done == ["x.csv"]
    lead = db.session.scalars(select(Lead)).one()
    assert lead.email == "a@example.com" and lead.status is LeadStatus.RECEIVED


def test_a_bad_file_lands_in_failed_with_its_rejects(source, drop_root):
    drop = folder_drop(source)
    inbox = drop_root / "acme" / "partner-a"
    (inbox / "all-bad.csv").write_text("E-mail,Country\nnope,US\nstill-nope,US\n")
    (inbox / "broken.xlsx").write_bytes(b"this is no spreadsheet")
    (inbox / "odd.xml").write_bytes(b"<leads><lead/></leads>")

    result = drop_poll.poll_drop(drop.id)

    assert sorted(result.failed) == ["all-bad.csv", "broken.xlsx", "odd.xml"]
    failed = inbox / "failed"
    assert sorted(p.name for p in failed.iterdir()) == [
        "all-bad.csv",
        "all-bad.csv.rejects.csv",
        "broken.xlsx",
        "broken.xlsx.rejects.csv",
        "odd.xml",
        "odd.xml.rejects.csv",
    ]
    assert [r[0] for r in rows_of(failed / "all-bad.csv.rejects.csv")[1:]] == ["2", "3"]
    assert "neither ADF nor" in rows_of(failed / "odd.xml.rejects.csv")[1][1]
    rows = {r.name: r for r in db.session.scalars(select(DropFile))}
    assert rows["all-bad.csv"].error == "no row was accepted"
    assert rows["broken.xlsx"].status is DropFileStatus.FAILED and rows["broken.xlsx"].error


def test_an_adf_file_in_a_drop_is_imported(source, drop_root):
    drop = folder_drop(source)
    (drop_root / "acme" / "partner-a" / "lead.xml").write_bytes(ADF)
    assert drop_poll.poll_drop(drop.id).done == ["lead.xml"]
    assert db.session.scalars(select(Lead)).one().email == "karl@example.com"


def test_a_folder_path_stays_inside_the_vendors_part_of_the_root(source, drop_root):
    for path in ("../other-vendor", "/etc", "a/../../b"):
        with pytest.raises(InvalidInput) as refused:
            folder_drop(source, path)
        assert refused.value.errors[0].field == "path"
        db.session.rollback()
    (drop_root / "acme").mkdir(parents=True, exist_ok=True)
    (drop_root / "elsewhere").mkdir()
    (drop_root / "acme" / "link").symlink_to(drop_root / "elsewhere")
    with pytest.raises(InvalidInput):
        folder_drop(source, "link")


def test_an_sftp_drop_imports_and_moves_on_the_server(source, sftp):
    drop = sftp_drop(source, sftp)
    (sftp.root / "inbox" / "leads.csv").write_text(MIXED)

    result = drop_poll.poll_drop(drop.id)

    assert result.done == ["leads.csv"], result
    assert sorted(p.name for p in (sftp.root / "inbox" / "done").iterdir()) == [
        "leads.csv",
        "leads.csv.rejects.csv",
    ]
    assert not (sftp.root / "inbox" / "leads.csv").exists()
    db.session.refresh(drop)
    assert drop.host_key == sftp.host_key  # pinned at the first connection
    assert db.session.scalar(select(func.count(Lead.id))) == 3


def test_an_sftp_drop_logs_in_with_a_private_key(source, sftp):
    drop = sftp_drop(source, sftp, password="", private_key=sftp.client_key)
    assert drops.secrets_set(drop) == {"private_key"}
    (sftp.root / "inbox" / "k.csv").write_text(GOOD)
    assert drop_poll.poll_drop(drop.id).done == ["k.csv"]


def test_a_file_is_imported_once_across_a_killed_worker(source, sftp):
    drop = sftp_drop(source, sftp)
    body = "E-mail,Country\n" + "".join(f"p{n}@example.com,US\n" for n in range(1100))
    (sftp.root / "inbox" / "big.csv").write_text(body)
    location = drops.open_location(drop, source[0])
    [entry] = location.list_files()
    row = drop_poll.claim(drop, entry)
    assert drop_poll.claim(drop, entry) is None  # held: a second poller keeps off

    def die(job: Job) -> None:
        raise Killed

    with pytest.raises(Killed):  # dies after its first chunk of rows was committed
        drop_poll.process(drop, location, row, progress=die)
    location.close()
    db.session.rollback()
    job = db.session.get(Job, row.job_id)
    assert job.status is JobStatus.RUNNING and job.processed == 500
    assert leads_of(job.id) == 500
    assert (sftp.root / "inbox" / "big.csv").exists()

    assert drop_poll.poll_drop(drop.id).skipped == 1  # its lease still runs: not taken over
    clock.advance(drop_poll.LEASE + timedelta(seconds=1))
    result = drop_poll.poll_drop(drop.id)

    assert result.done == ["big.csv"]
    db.session.refresh(row)
    assert (row.status, row.accepted, row.attempts) == (DropFileStatus.DONE, 1100, 2)
    assert db.session.scalar(select(func.count(Job.id))) == 1
    assert leads_of(job.id) == 1100
    assert db.session.scalar(select(func.count(func.distinct(Lead.email)))) == 1100
    assert (sftp.root / "inbox" / "done" / "big.csv").exists()


def test_a_file_imported_but_not_moved_is_moved_not_imported_again(source, drop_root):
    drop = folder_drop(source)
    inbox = drop_root / "acme" / "partner-a"
    (inbox / "a.csv").write_text(GOOD)
    location = drops.open_location(drop, source[0])
    row = drop_poll.claim(drop, DropEntry(*_stat(inbox / "a.csv")))

    def die_after_the_last_chunk(job: Job) -> None:
        if job.status is JobStatus.FINISHED:
            raise Killed

    with pytest.raises(Killed):
        drop_poll.process(drop, location, row, progress=die_after_the_last_chunk)
    db.session.rollback()
    clock.advance(drop_poll.LEASE + timedelta(seconds=1))

    assert drop_poll.poll_drop(drop.id).done == ["a.csv"]
    assert db.session.scalar(select(func.count(Lead.id))) == 1
    assert (inbox / "done" / "a.csv").exists() and not (inbox / "a.csv").exists()


def test_a_symbolic_link_for_done_is_not_followed(source, drop_root, tmp_path):
    drop = folder_drop(source)
    inbox = drop_root / "acme" / "partner-a"
    (tmp_path / "elsewhere").mkdir()
    (inbox / "done").symlink_to(tmp_path / "elsewhere")
    (inbox / "a.csv").write_text(GOOD)
    result = drop_poll.poll_drop(drop.id)
    assert "symbolic link" in result.error
    assert list((tmp_path / "elsewhere").iterdir()) == []


def _stat(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return path.name, stat.st_size, int(stat.st_mtime)


def test_connection_errors_stay_on_the_drop_and_the_poller_goes_on(source, sftp):
    drop = sftp_drop(source, sftp)
    drop.secrets = {"password": "wrong"}
    db.session.commit()
    result = drop_poll.poll_drop(drop.id)
    assert "refused the user name, password or key" in result.error
    db.session.refresh(drop)
    assert drop.last_error == result.error and drop.last_error_at is not None

    drop.secrets, drop.path = {"password": PASSWORD}, "/no-such-folder"
    db.session.commit()
    assert "does not exist" in drop_poll.poll_drop(drop.id).error

    drop.path = "/inbox"
    db.session.commit()
    (sftp.root / "inbox" / "ok.csv").write_text(GOOD)
    assert drop_poll.poll_drop(drop.id).done == ["ok.csv"]
    db.session.refresh(drop)
    assert drop.last_error is None


def test_the_sftp_host_guard_refuses_internal_addresses(app, source):
    app.config["OUTBOUND_ALLOW_HOSTS"] = ""
    vendor, key = source
    for host in ("127.0.0.1", "10.0.0.5", "169.254.169.254", "2130706433", "[::ffff:127.0.0.1]"):
        values = {"kind": "sftp", "host": host, "port": 22, "username": "u", "password": "p"}
        with pytest.raises(InvalidInput) as refused:
            drops.save_drop(vendor, key, values | {"path": "/in"})
        assert [e.field for e in refused.value.errors] == ["host"], host


def test_secrets_are_kept_when_left_blank_and_never_shown(source, sftp):
    drop = sftp_drop(source, sftp)
    changed = sftp_drop(source, sftp, password="", path="/inbox")
    assert changed.id == drop.id and changed.secrets["password"] == PASSWORD
    assert drops.secrets_set(changed) == {"password"}


def test_the_sweeper_polls_due_drops(app, source, drop_root):
    from distribution.handover.sweeper import sweep
    from distribution.jobs import runner

    drop = folder_drop(source)
    (drop_root / "acme" / "partner-a" / "s.csv").write_text(GOOD)
    assert sweep().drop_polls == 1
    runner.runner().wait_idle()
    db.session.expire_all()
    assert db.session.scalars(select(DropFile)).one().status is DropFileStatus.DONE
    assert sweep().drop_polls == 0  # polled a moment ago
    clock.advance(timedelta(minutes=5))
    accounts.revoke_api_key(source[1])
    db.session.commit()
    assert sweep().drop_polls == 0  # a revoked source's drop is not polled
    (drop_root / "acme" / "partner-a" / "t.csv").write_text(GOOD)
    assert drop_poll.poll_drop(drop.id).done == []
    assert drop.id


POLL_IN_A_CHILD = """
import json, sys, time
from portal import create_app
from distribution import drop_poll
config, drop_id = json.loads(sys.argv[1]), int(sys.argv[2])

def hang(job):
    print("committed", job.processed, flush=True)
    time.sleep(600)  # killed here, with -9, half-way through the file

with create_app(config).app_context():
    drop_poll.poll_drop(drop_id, progress=hang)
"""


def test_a_worker_killed_with_sigkill_mid_file_leaves_it_to_the_next_poll(
    app, source, sftp, database_url
):
    drop = sftp_drop(source, sftp)
    body = "E-mail,Country\n" + "".join(f"k{n}@example.com,US\n" for n in range(1200))
    (sftp.root / "inbox" / "nightly.csv").write_text(body)
    keys = ("TESTING", "SECRET_KEY", "INSTANCE_PATH", "SERVER_NAME", "RATELIMIT_STORAGE_URI")
    config = {k: app.config[k] for k in keys} | {
        "DATABASE_URL": database_url,
        "DEVELOPMENT": True,
        "REDIS_URL": None,
        "ROUTE_AFTER_INTAKE": False,
        "SEND_AFTER_COMMIT": False,
        "OUTBOUND_ALLOW_HOSTS": "127.0.0.1",
        "DROP_SETTLE_SECONDS": 0,
    }
    child = subprocess.Popen(
        [sys.executable, "-c", POLL_IN_A_CHILD, json.dumps(config), str(drop.id)],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    try:
        assert child.stdout.readline().split() == ["committed", "500"]
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    db.session.expire_all()
    row = db.session.scalars(select(DropFile)).one()
    assert row.status is DropFileStatus.CLAIMED and leads_of(row.job_id) == 500

    clock.advance(drop_poll.LEASE + timedelta(seconds=1))
    assert drop_poll.poll_drop(drop.id).done == ["nightly.csv"]
    db.session.refresh(row)
    assert (row.status, row.accepted) == (DropFileStatus.DONE, 1200)
    assert db.session.scalar(select(func.count(Lead.id))) == 1200
    assert (sftp.root / "inbox" / "done" / "nightly.csv").exists()
