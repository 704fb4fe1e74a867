"""Batch imports: the vendor's upload-map-preview-run flow, the command line, and 100,000 rows."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from distribution.db import db
from distribution.jobs import runner as jobs
from distribution.models import Job, JobStatus, Lead, LeadStatus, Role
from tests.conftest import csrf_token

CSV_BODY = (
    "First Name,Last Name,E-mail,Phone,Country,Zip,Industry\n"
    "Ada,Lovelace,ada@engines.example.com,(415) 555-0132,US,94107,Computing\n"
    "Bad,Row,not-an-email,,US,94107,Retail\n"
    '=HYPERLINK("x"),Formula,,,Narnia,,Evil\n'
)


@pytest.fixture
def vendor_admin(world, auth):
    """Vendor "acme" and its admin, logged in."""
    vendor = world.vendor("acme")
    world.user(Role.VENDOR_ADMIN, vendor, email="admin@acme.example.com")
    auth.login("admin@acme.example.com")
    return vendor


def upload(client, name, data):
    token = csrf_token(client, "/vendor/imports")
    return client.post(
        "/vendor/imports",
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_upload_guesses_the_mapping_and_previews_validation(client, vendor_admin):
    response = upload(client, "leads.csv", CSV_BODY.encode())
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'<option value="email" selected>', page)
    assert re.search(r'<option value="postal_code" selected>', page)
    assert "Would be rejected" in page and "email" in page
    assert db.session.scalar(select(func.count(Lead.id))) == 0  # a preview stores nothing


def test_the_import_runs_in_the_background_and_reports_rejects(app, client, vendor_admin):
    mapping_url = upload(client, "leads.csv", CSV_BODY.encode()).headers["Location"]
    token = csrf_token(client, mapping_url)
    started = client.post(mapping_url, data={"csrf_token": token, "action": "start"})
    assert started.status_code == 302
    jobs.runner().wait_idle()

    job = db.session.scalars(select(Job)).one()
    db.session.refresh(job)
    assert job.status is JobStatus.FINISHED
    assert (job.total, job.processed) == (3, 3)
    assert job.result["counts"] == {"received": 1, "rejected": 2}
    lead = db.session.scalars(select(Lead).where(Lead.status == LeadStatus.RECEIVED)).one()
    assert lead.extras["Industry"] == "Computing"
    assert lead.import_job_id == job.id and lead.channel == "csv"

    page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "rejected rows" in page
    progress = client.get(f"/vendor/imports/{job.id}/progress.json").get_json()
    assert progress["status"] == "finished" and progress["processed"] == 3

    rejects = client.get(f"/vendor/imports/{job.id}/rejected.csv")
    rows = list(csv.reader(io.StringIO(rejects.get_data(as_text=True))))
    assert rows[0] == ["row", "reason", "values"]
    assert [r[0] for r in rows[1:]] == ["3", "4"]
    assert "email" in rows[1][1]
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_xlsx_files_import_too(app, client, vendor_admin):
    book = Workbook()
    sheet = book.active
    sheet.append(["first_name", "last_name", "email", "country"])
    sheet.append(["Grace", "Hopper", "grace@navy.example.com", "US"])
    data = io.BytesIO()
    book.save(data)
    mapping_url = upload(client, "leads.xlsx", data.getvalue()).headers["Location"]
    client.post(
        mapping_url, data={"csrf_token": csrf_token(client, mapping_url), "action": "start"}
    )
    jobs.runner().wait_idle()
    assert db.session.scalars(select(Lead.last_name)).all() == ["Hopper"]


def test_another_vendor_cannot_open_an_upload_or_a_job(client, world, auth, vendor_admin):
    mapping_url = upload(client, "leads.csv", CSV_BODY.encode()).headers["Location"]
    client.post(
        mapping_url, data={"csrf_token": csrf_token(client, mapping_url), "action": "start"}
    )
    jobs.runner().wait_idle()
    job_id = db.session.scalars(select(Job.id)).one()
    auth.logout()
    other = world.vendor("globex")
    world.user(Role.VENDOR_ADMIN, other, email="admin@globex.example.com")
    auth.login("admin@globex.example.com")
    assert client.get(mapping_url).status_code == 404
    assert client.get(f"/vendor/imports/{job_id}").status_code == 404
    assert client.get(f"/vendor/imports/{job_id}/rejected.csv").status_code == 404


def test_a_file_that_is_not_csv_or_xlsx_is_refused(client, vendor_admin):
    response = upload(client, "leads.pdf", b"%PDF-1.4")
    assert response.status_code == 400
    assert "Only .csv or .xlsx" in response.get_data(as_text=True)


def test_the_command_imports_100000_rows(runner, world, tmp_path):
    """The issue's size: every row stored with a status, the bad ones rejected with reasons."""
    vendor = world.vendor("acme")
    path = tmp_path / "big.csv"
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["first_name", "last_name", "email", "country", "state"])
        for i in range(100_000):
            email = f"person{i}@example.com" if i % 1000 else "broken"
            out.writerow([f"First{i}", f"Last{i}", email, "US", "CA"])
    result = runner.invoke(args=["leads", "import", str(path), "--vendor", vendor.slug])
    assert result.exit_code == 0, result.output
    assert "Imported 100000 rows" in result.output
    counts = dict(
        db.session.execute(select(Lead.status, func.count(Lead.id)).group_by(Lead.status)).all()
    )
    assert counts == {LeadStatus.RECEIVED: 99_900, LeadStatus.REJECTED: 100}


def test_reading_ahead_in_a_second_process_imports_exactly_as_in_line(app, runner, world, tmp_path):
    """A file read ahead by another process (``IMPORT_READ_AHEAD_ROWS``) comes out row for
    row as one read in line: the same statuses, duplicates of earlier chunks, rejects."""
    path = tmp_path / "mixed.csv"
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["first_name", "last_name", "email", "phone", "country", "state"])
        for i in range(1_300):  # three chunks of 500 and more
            email, phone = f"person{i % 900}@example.com", f"(415) 555-{i % 900:04d}"
            if i % 97 == 0:
                email, phone = "broken", ""  # no way to reach the person: rejected
            out.writerow([f"First{i}", f"Last{i}", email, phone, "US", "CA"])

    def imported(slug: str, read_ahead_rows: int) -> tuple[list[tuple], str]:
        vendor = world.vendor(slug)
        app.config["IMPORT_READ_AHEAD_ROWS"] = read_ahead_rows
        result = runner.invoke(args=["leads", "import", str(path), "--vendor", vendor.slug])
        assert result.exit_code == 0, result.output
        rows = db.session.execute(
            select(Lead.status, Lead.email, Lead.phone, Lead.duplicate_of_id.is_not(None))
            .where(Lead.vendor_id == vendor.id)
            .order_by(Lead.id)
        ).all()
        job = db.session.scalars(select(Job).where(Job.vendor_id == vendor.id)).one()
        with open(job.result["rejects_file"], encoding="utf-8") as rejects:
            return [tuple(row) for row in rows], rejects.read()

    in_line, in_line_rejects = imported("inline", 10**9)
    ahead, ahead_rejects = imported("ahead", 0)
    assert ahead == in_line
    assert ahead_rejects == in_line_rejects
    statuses = [row[0] for row in ahead]
    assert statuses.count(LeadStatus.REJECTED) == 14  # i % 97 == 0
    assert statuses.count(LeadStatus.DUPLICATE) > 300  # later chunks repeat the first 900
    assert len(ahead) == 1_300
