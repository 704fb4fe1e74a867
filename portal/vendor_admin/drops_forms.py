"""The file drop form of a lead source: a local folder or an SFTP server, and its sign-in."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, NumberRange, Optional

from portal.choices import options


class DropForm(FlaskForm):
    kind = RadioField(
        "Where the source leaves its files",
        choices=options({"folder": "A folder on this server", "sftp": "An SFTP server"}),
        default="folder",
    )
    path = StringField("Folder", validators=[Optional(), Length(max=500)])
    host = StringField("SFTP host", validators=[Optional(), Length(max=255)])
    port = IntegerField("Port", default=22, validators=[Optional(), NumberRange(1, 65535)])
    username = StringField("User name", validators=[Optional(), Length(max=120)])
    password = PasswordField("Password", validators=[Optional(), Length(max=500)])
    private_key = TextAreaField("Private key (OpenSSH or PEM)", validators=[Optional()])
    active = BooleanField("Look for new files every minute", default=True)

    def values(self) -> dict[str, object]:
        """What ``distribution.drops.save_drop`` takes."""
        return {
            "kind": self.kind.data,
            "path": self.path.data or "",
            "host": self.host.data or "",
            "port": self.port.data or 22,
            "username": self.username.data or "",
            "password": self.password.data or "",
            "private_key": self.private_key.data or "",
            "active": bool(self.active.data),
        }
