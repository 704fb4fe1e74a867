"""Vendor pages for batch imports: upload, map columns, preview, run, follow, download rejects."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response

from connectors.errors import ParseError
from distribution import imports, listing
from distribution.db import db
from distribution.intake.pipeline import LEAD_FIELDS
from distribution.jobs.runner import enqueue
from distribution.models import Job, JobStatus, Role
from portal.security import current_scope, get_or_404, role_required
from portal.templating import viewer_zone
from portal.uploads import upload_dir
from portal.vendor_admin import bp
from portal.vendor_admin.imports_forms import StartForm, UploadForm
from portal.vendor_admin.routes import current_vendor

_TOKEN_LENGTH = 32


@bp.route("/imports", methods=["GET", "POST"])
@role_required(Role.VENDOR_ADMIN)
def imports_index() -> str | Response:
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        filename = secure_filename(upload.filename or "leads.csv") or "leads.csv"
        kind = imports.file_kind(filename)
        token = uuid.uuid4().hex
        folder = upload_dir(current_app) / token
        folder.mkdir()
        stored = folder / f"upload.{kind}"
        upload.save(stored)
        meta = {"vendor_id": current_scope().vendor_id, "filename": filename, "kind": kind}
        (folder / "meta.json").write_text(json.dumps(meta))
        return redirect(url_for("vendor.import_mapping", token=token))
    query = listing.read_list(imports.IMPORT_LIST, request.args, viewer_zone())
    status = 400 if request.method == "POST" else 200
    return render_template(
        "vendor/imports/index.html",
        form=form,
        query=query,
        page=imports.import_jobs(current_scope(), query),
        statuses=[(s.value, s.value) for s in JobStatus],
    ), status


def _upload(token: str) -> tuple[Path, dict]:
    """The upload folder of ``token`` if it belongs to the current vendor, else 404."""
    if len(token) != _TOKEN_LENGTH or not token.isalnum():
        abort(404)
    folder = upload_dir(current_app) / token
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except FileNotFoundError:
        abort(404)
    if meta.get("vendor_id") != current_scope().vendor_id:
        abort(404)
    return folder, meta


@bp.route("/imports/upload/<token>", methods=["GET", "POST"])
@role_required(Role.VENDOR_ADMIN)
def import_mapping(token: str) -> str | Response | tuple[str, int]:
    folder, meta = _upload(token)
    stored = folder / f"upload.{meta['kind']}"
    try:
        headers, guessed = imports.headers_and_guess(stored, meta["kind"])
    except ParseError as exc:
        flash(f"{meta['filename']} could not be read: {exc}", "error")
        return redirect(url_for("vendor.imports_index"))
    mapping = {
        header: (request.values.get(f"map-{i}", guessed.get(header) or "") or None)
        for i, header in enumerate(headers)
    }
    form = StartForm()
    if request.method == "POST" and request.form.get("action") == "start" and form.validate():
        job = imports.create_import_job(
            current_vendor(), current_user, meta["filename"], stored, mapping
        )
        db.session.commit()
        job.rq_job_id = enqueue(imports.run_import, job.id)
        db.session.commit()
        flash(f"Import of {meta['filename']} started.", "success")
        return redirect(url_for("vendor.import_job", job_id=job.id))
    rows = imports.preview(current_vendor(), stored, meta["kind"], mapping)
    return render_template(
        "vendor/imports/mapping.html",
        form=form,
        filename=meta["filename"],
        headers=list(enumerate(headers)),
        mapping=mapping,
        choices=LEAD_FIELDS,
        rows=rows,
    )


@bp.route("/imports/<int:job_id>")
@role_required(Role.VENDOR_ADMIN)
def import_job(job_id: int) -> str:
    job = get_or_404(Job, job_id)
    return render_template("vendor/imports/job.html", job=job)


@bp.route("/imports/<int:job_id>/progress.json")
@role_required(Role.VENDOR_ADMIN)
def import_progress(job_id: int) -> dict:
    job = get_or_404(Job, job_id)
    return {
        "status": job.status.value,
        "processed": job.processed,
        "total": job.total,
        "result": {k: v for k, v in (job.result or {}).items() if k != "rejects_file"},
        "error": job.error,
    }


@bp.route("/imports/<int:job_id>/rejected.csv")
@role_required(Role.VENDOR_ADMIN)
def import_rejects(job_id: int) -> Response:
    job = get_or_404(Job, job_id)
    path = (job.result or {}).get("rejects_file")
    if not path or not Path(path).is_file():
        abort(404)
    return send_file(
        path, mimetype="text/csv", as_attachment=True, download_name=f"import-{job.id}-rejected.csv"
    )
