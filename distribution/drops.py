"""File drops set up per lead source: where a source leaves its files, checked when saved.

A drop is a folder under the drop root on this machine (each vendor gets its own
folder there, so a path can never reach another vendor's files), or a path on an
SFTP server whose host passes the outbound SSRF guard. The password and private
key are stored and used, never shown again: an edit that leaves them blank keeps
them. The poller (``drop_poll``) opens a drop with ``open_location``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select

from connectors import drops as connector
from distribution import clock
from distribution.db import db
from distribution.errors import FieldError, InvalidInput
from distribution.models import ApiKey, DropFile, DropKind, FileDrop, Vendor
from distribution.outbox.payload import allowed_hosts

SECRET_NAMES = ("password", "private_key")
RECENT_FILES = 20


def drop_root() -> Path:
    """Where local drop folders live (``DROP_FOLDER_ROOT``, else the instance's drops/)."""
    configured = current_app.config.get("DROP_FOLDER_ROOT")
    return Path(configured or Path(current_app.instance_path) / "drops")


def vendor_root(vendor: Vendor) -> Path:
    """The vendor's own part of the drop root: its local drops are folders inside it."""
    return drop_root() / vendor.slug


def drop_of(api_key: ApiKey) -> FileDrop | None:
    """The source's drop, if it has one."""
    return db.session.scalar(select(FileDrop).where(FileDrop.api_key_id == api_key.id))


def recent_files(drop: FileDrop, limit: int = RECENT_FILES) -> list[DropFile]:
    """The files last seen in ``drop``, newest first."""
    stmt = (
        select(DropFile)
        .where(DropFile.drop_id == drop.id, DropFile.vendor_id == drop.vendor_id)
        .order_by(DropFile.seen_at.desc(), DropFile.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def secrets_set(drop: FileDrop) -> frozenset[str]:
    """Which credentials are stored ("password", "private_key"), never their values."""
    return frozenset(name for name in SECRET_NAMES if (drop.secrets or {}).get(name))


def save_drop(vendor: Vendor, api_key: ApiKey, values: dict[str, Any]) -> FileDrop:
    """Create or change the source's drop from form ``values``; not committed.

    ``values``: kind ("folder" or "sftp"), path, and for SFTP host, port, username,
    password, private_key. Raises ``InvalidInput`` naming each bad field.
    """
    if api_key.vendor_id != vendor.id or api_key.partner_id or api_key.buyer_id or api_key.admin:
        raise InvalidInput([FieldError("source", "is not one of this vendor's source keys")])
    drop = drop_of(api_key)
    kind = str(values.get("kind") or "")
    if kind not in {k.value for k in DropKind}:
        raise InvalidInput([FieldError("kind", "choose a local folder or an SFTP server")])
    path = str(values.get("path") or "").strip()
    errors: list[FieldError] = []
    fields: dict[str, Any] = {"kind": DropKind(kind), "host": None, "port": None, "username": None}
    secrets: dict[str, str] = {}
    if kind == DropKind.FOLDER:
        try:
            relative = connector.check_relative(path)
            connector.local_folder(vendor_root(vendor), relative)
            fields["path"] = relative
        except connector.DropError as exc:
            errors.append(FieldError("path", exc.message))
    else:
        fields["path"] = path
        errors += _check_sftp(values, fields, secrets, drop)
    if errors:
        raise InvalidInput(errors)
    if drop is None:
        drop = FileDrop(vendor_id=vendor.id, api_key_id=api_key.id, created_at=clock.now())
        db.session.add(drop)
    if (drop.host, drop.port) != (fields["host"], fields["port"]):
        drop.host_key = None  # another server: its key is learnt at the next connection
    for name, value in fields.items():
        setattr(drop, name, value)
    drop.secrets = secrets
    drop.active = bool(values.get("active", True))
    drop.last_error = drop.last_error_at = None
    db.session.flush()
    return drop


def _check_sftp(
    values: dict[str, Any], fields: dict[str, Any], secrets: dict[str, str], drop: FileDrop | None
) -> list[FieldError]:
    errors = []
    host = str(values.get("host") or "").strip()
    port = values.get("port") or 22
    username = str(values.get("username") or "").strip()
    path = fields["path"]
    if not path.startswith("/"):
        errors.append(FieldError("path", "write the folder on the server from /, e.g. /outgoing"))
    if not isinstance(port, int) or not 1 <= port <= 65535:
        errors.append(FieldError("port", "must be a whole number from 1 to 65535"))
        port = 22
    if not username:
        errors.append(FieldError("username", "is required"))
    if not host:
        errors.append(FieldError("host", "is required"))
    else:
        try:
            connector.check_sftp_host(host, port, allowed_hosts())
        except connector.DropError as exc:
            errors.append(FieldError("host", exc.message))
    kept = dict(drop.secrets or {}) if drop is not None and drop.host == host.lower() else {}
    for name in SECRET_NAMES:
        given = str(values.get(name) or "").strip()
        if given:
            secrets[name] = given
        elif kept.get(name):
            secrets[name] = kept[name]
    if secrets.get("private_key") and values.get("private_key"):
        try:
            connector.check_private_key(secrets["private_key"])
        except connector.DropError as exc:
            errors.append(FieldError("private_key", exc.message))
    if not secrets:
        errors.append(FieldError("password", "give a password or a private key"))
    fields.update(host=host.lower(), port=port, username=username)
    return errors


def open_location(drop: FileDrop, vendor: Vendor) -> connector.LocalFolder | connector.SftpDrop:
    """Connect to the drop; ``connectors.drops.DropError`` says why it cannot be used."""
    if drop.kind is DropKind.FOLDER:
        return connector.LocalFolder(connector.local_folder(vendor_root(vendor), drop.path))
    settings = connector.SftpSettings(
        host=drop.host or "",
        port=drop.port or 22,
        username=drop.username or "",
        path=drop.path,
        password=(drop.secrets or {}).get("password"),
        private_key=(drop.secrets or {}).get("private_key"),
        host_key=drop.host_key,
        allow_hosts=allowed_hosts(),
    )
    return connector.SftpDrop(settings)
