"""The destination form: flat fields a person fills in, and the settings mapping they make.

``DestinationForm.settings()`` turns the fields into the settings one kind of
destination reads (connectors/outbound); ``fill_from`` does the reverse for the
edit page, leaving every credential empty. ``show_errors`` puts each error of
``destinations.save`` next to the field it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from connectors.outbound import KINDS
from connectors.outbound.answers import RULE_NAMES
from connectors.outbound.sms import DEFAULT_BASE_URL as DEFAULT_SMS_BASE_URL
from distribution import destinations
from distribution.errors import FieldError
from distribution.models import Destination
from portal.choices import options

KIND_LABELS = {
    "http_form": "HTTP form post (name=value pairs)",
    "http_xml": "HTTP XML post (ADF or your template)",
    "http_json": "HTTP JSON post",
    "email": "Email",
    "fax": "Fax (fax API or email-to-fax gateway)",
    "sms": "SMS text to a phone (Twilio or an API of its shape)",
}
AUTH_TYPES = options(
    {
        "none": "None",
        "basic": "Basic (user name and password)",
        "bearer": "Bearer token",
        "header": "Custom header",
    }
)
RULE_KINDS = options(
    {
        "": "—",
        "status": "HTTP status",
        "json": "JSON path",
        "xpath": "XPath",
        "regex": "Regular expression",
    }
)
# Rules that say yes or no, and so may compare what they find with given words.
YES_NO_RULES = ("accepted", "rejected")
HTTP_KINDS = ("http_form", "http_xml", "http_json")
MAPPED_KINDS = ("http_form", "http_json")

# The parts of the form, and which a kind of destination shows (nothing else is sent).
COMMON_FIELDS = ("owner", "name", "kind", "timeout", "include_appended")
SECTION_FIELDS: dict[str, tuple[str, ...]] = {
    "http": (
        "url",
        "auth_type",
        "auth_username",
        "auth_password",
        "auth_token",
        "auth_header_name",
        "auth_header_value",
    ),
    "mapping": ("field_mapping", "static_fields"),
    "xml": ("xml_format", "xml_template", "adf_vendor_name"),
    "answer": tuple(
        f"answer_{name}{part}" for name in RULE_NAMES for part in ("_kind", "", "_equals")
    ),
    "email": ("email_to", "email_cc", "email_reply_to", "withhold_contact"),
    "smtp": (
        "email_from",
        "smtp_host",
        "smtp_port",
        "smtp_username",
        "smtp_password",
        "smtp_security",
    ),
    "fax": ("fax_number", "fax_mode", "fax_gateway", "keep_plus", "withhold_contact"),
    "sms": (
        "sms_to",
        "sms_from",
        "sms_messaging_service_sid",
        "sms_base_url",
        "sms_account_sid",
        "sms_auth_token",
    ),
}
KIND_SECTIONS: dict[str, tuple[str, ...]] = {
    "http_form": ("http", "mapping", "answer"),
    "http_json": ("http", "mapping", "answer"),
    "http_xml": ("http", "xml", "answer"),
    "email": ("email", "smtp"),
    "fax": ("fax", "http", "answer", "smtp"),
    "sms": ("sms",),
}
KIND_HELP = {
    "http_form": "Posts name=value pairs to a URL, as a web form or Salesforce Web-to-Lead does.",
    "http_json": "Posts a JSON document to a URL (a CRM's or a webhook's API).",
    "http_xml": "Posts XML to a URL: ADF 1.0 (the automotive lead standard) or your own template.",
    "email": "Sends each lead as an email through an SMTP server you name.",
    "fax": "Sends a PDF by fax, through a fax API (HTTP) or an email-to-fax gateway.",
    "sms": (
        "Texts the partner's phone about each offer: company, city and product, and the"
        " link to accept it. Sent through Twilio or an SMS API of the same shape."
    ),
}

# Which form field shows an error about which setting (the longest known prefix wins).
_ERROR_FIELDS = {
    "name": "name",
    "kind": "kind",
    "owner": "owner",
    "url": "url",
    "callback_url": "url",
    "auth": "auth_type",
    "auth.type": "auth_type",
    "auth.username": "auth_username",
    "auth.password": "auth_password",
    "auth.token": "auth_token",
    "auth.header_name": "auth_header_name",
    "auth.header_value": "auth_header_value",
    "field_mapping": "field_mapping",
    "static_fields": "static_fields",
    "timeout": "timeout",
    "include_appended": "include_appended",
    "answer": "answer_accepted",
    **{f"answer.{name}": f"answer_{name}" for name in RULE_NAMES},
    "format": "xml_format",
    "template": "xml_template",
    "vendor_name": "adf_vendor_name",
    "to": "email_to",
    "cc": "email_cc",
    "from": "email_from",
    "reply_to": "email_reply_to",
    "smtp": "smtp_host",
    "smtp.host": "smtp_host",
    "smtp.port": "smtp_port",
    "smtp.username": "smtp_username",
    "smtp.starttls": "smtp_security",
    "smtp.ssl": "smtp_security",
    "number": "fax_number",
    "mode": "fax_mode",
    "gateway": "fax_gateway",
}
# An SMS destination's settings share some names with e-mail's ("to", "from").
_SMS_ERROR_FIELDS = {
    "to": "sms_to",
    "from": "sms_from",
    "messaging_service_sid": "sms_messaging_service_sid",
    "base_url": "sms_base_url",
    "account_sid": "sms_account_sid",
    "auth_token": "sms_auth_token",
}


class DestinationForm(FlaskForm):
    owner = SelectField("Belongs to", choices=[], validate_choice=False)
    name = StringField("Name", validators=[Length(max=120)])
    kind = SelectField("Kind", choices=options((k, KIND_LABELS[k]) for k in KINDS))
    url = StringField("URL", validators=[Optional(), Length(max=2000)])
    timeout = StringField("Timeout (seconds)", validators=[Optional(), Length(max=10)])
    include_appended = BooleanField("Include appended values", default=True)

    auth_type = SelectField("Authentication", choices=AUTH_TYPES, default="none")
    auth_username = StringField("User name", validators=[Optional(), Length(max=200)])
    auth_password = PasswordField("Password", validators=[Optional(), Length(max=500)])
    auth_token = PasswordField("Bearer token", validators=[Optional(), Length(max=2000)])
    auth_header_name = StringField("Header name", validators=[Optional(), Length(max=100)])
    auth_header_value = PasswordField("Header value", validators=[Optional(), Length(max=2000)])

    field_mapping = TextAreaField("Field mapping", validators=[Optional(), Length(max=10_000)])
    static_fields = TextAreaField("Fixed fields", validators=[Optional(), Length(max=10_000)])

    xml_format = SelectField(
        "XML format", choices=options({"adf": "ADF 1.0", "template": "My template"}), default="adf"
    )
    xml_template = TextAreaField("XML template", validators=[Optional(), Length(max=50_000)])
    adf_vendor_name = StringField("ADF vendor name", validators=[Optional(), Length(max=200)])

    email_to = StringField("To", validators=[Optional(), Length(max=1000)])
    email_cc = StringField("Cc", validators=[Optional(), Length(max=1000)])
    email_from = StringField("From", validators=[Optional(), Length(max=254)])
    email_reply_to = StringField("Reply-To", validators=[Optional(), Length(max=254)])
    withhold_contact = BooleanField("Keep contact details out of offers until accepted")
    smtp_host = StringField("SMTP server", validators=[Optional(), Length(max=253)])
    smtp_port = StringField("SMTP port", validators=[Optional(), Length(max=5)])
    smtp_username = StringField("SMTP user name", validators=[Optional(), Length(max=254)])
    smtp_password = PasswordField("SMTP password", validators=[Optional(), Length(max=500)])
    smtp_security = SelectField(
        "SMTP security",
        choices=options({"none": "None", "starttls": "STARTTLS", "ssl": "TLS from the start"}),
        default="none",
    )

    fax_number = StringField("Fax number (E.164)", validators=[Optional(), Length(max=32)])
    fax_mode = SelectField(
        "Fax via",
        choices=options({"api": "A fax API (HTTP)", "gateway": "An email-to-fax gateway"}),
        default="api",
    )
    fax_gateway = StringField("Gateway domain", validators=[Optional(), Length(max=253)])
    keep_plus = BooleanField('Keep the "+" in the gateway address')

    sms_to = StringField("Partner's phone (E.164)", validators=[Optional(), Length(max=40)])
    sms_from = StringField("From number (E.164)", validators=[Optional(), Length(max=40)])
    sms_messaging_service_sid = StringField(
        "Messaging service SID", validators=[Optional(), Length(max=64)]
    )
    sms_base_url = StringField("SMS API address", validators=[Optional(), Length(max=2000)])
    sms_account_sid = StringField("Account SID", validators=[Optional(), Length(max=64)])
    sms_auth_token = PasswordField("Auth token", validators=[Optional(), Length(max=500)])

    answer_accepted_kind = SelectField("Accepted when", choices=RULE_KINDS, default="")
    answer_accepted = StringField("Accepted rule", validators=[Optional(), Length(max=1000)])
    answer_accepted_equals = StringField("equals", validators=[Optional(), Length(max=1000)])
    answer_rejected_kind = SelectField("Rejected when", choices=RULE_KINDS, default="")
    answer_rejected = StringField("Rejected rule", validators=[Optional(), Length(max=1000)])
    answer_rejected_equals = StringField("equals", validators=[Optional(), Length(max=1000)])
    answer_price_kind = SelectField("Price", choices=RULE_KINDS, default="")
    answer_price = StringField("Price rule", validators=[Optional(), Length(max=1000)])
    answer_remote_id_kind = SelectField("Their lead id", choices=RULE_KINDS, default="")
    answer_remote_id = StringField("Lead id rule", validators=[Optional(), Length(max=1000)])
    answer_reason_kind = SelectField("Reason", choices=RULE_KINDS, default="")
    answer_reason = StringField("Reason rule", validators=[Optional(), Length(max=1000)])

    # --- form -> settings -------------------------------------------------------------

    def settings(self) -> dict[str, Any] | None:
        """The settings for the chosen kind; None (with field errors) when a
        textarea cannot be read."""
        kind = self.kind.data
        settings: dict[str, Any] = {}
        if self.timeout.data:
            settings["timeout"] = _number(self.timeout.data)
        if not self.include_appended.data:
            settings["include_appended"] = False  # on unless switched off
        if kind in HTTP_KINDS or (kind == "fax" and self.fax_mode.data == "api"):
            settings["url"] = (self.url.data or "").strip()
            auth = self._auth()
            if auth:
                settings["auth"] = auth
            answer = self._answer()
            if answer:
                settings["answer"] = answer
        if kind in MAPPED_KINDS:
            mapping = _pairs(self.field_mapping)
            statics = _pairs(self.static_fields)
            if mapping is None or statics is None:
                return None
            if mapping:
                settings["field_mapping"] = mapping
            if statics:
                settings["static_fields"] = statics
        if kind == "http_xml":
            settings["format"] = self.xml_format.data
            if self.xml_format.data == "template":
                settings["template"] = self.xml_template.data or ""
            if self.adf_vendor_name.data:
                settings["vendor_name"] = self.adf_vendor_name.data.strip()
        if kind == "email":
            settings["to"] = (self.email_to.data or "").strip()
            for key, field in (("cc", self.email_cc), ("reply_to", self.email_reply_to)):
                if field.data and field.data.strip():
                    settings[key] = field.data.strip()
        if kind == "email" or (kind == "fax" and self.fax_mode.data == "gateway"):
            settings["from"] = (self.email_from.data or "").strip()
            settings["smtp"] = self._smtp()
        if kind == "fax":
            settings["number"] = (self.fax_number.data or "").strip()
            settings["mode"] = self.fax_mode.data
            if self.fax_mode.data == "gateway":
                settings["gateway"] = (self.fax_gateway.data or "").strip()
                settings["keep_plus"] = bool(self.keep_plus.data)
        if kind in ("email", "fax") and self.withhold_contact.data:
            settings["withhold_contact_in_offer"] = True
        if kind == "sms":
            settings.update(self._sms())
        return settings

    def _sms(self) -> dict[str, Any]:
        sms = {
            "to": (self.sms_to.data or "").strip(),
            "base_url": (self.sms_base_url.data or "").strip() or DEFAULT_SMS_BASE_URL,
            "account_sid": (self.sms_account_sid.data or "").strip(),
            # Blank on an edit keeps the stored token (``destinations.save``).
            "auth_token": (self.sms_auth_token.data or "").strip(),
        }
        service = (self.sms_messaging_service_sid.data or "").strip()
        if service:
            sms["messaging_service_sid"] = service
        else:
            sms["from"] = (self.sms_from.data or "").strip()
        return sms

    def _auth(self) -> dict[str, Any] | None:
        kind = self.auth_type.data
        if kind == "basic":
            return {
                "type": "basic",
                "username": (self.auth_username.data or "").strip(),
                "password": self.auth_password.data or "",
            }
        if kind == "bearer":
            return {"type": "bearer", "token": (self.auth_token.data or "").strip()}
        if kind == "header":
            return {
                "type": "header",
                "header_name": (self.auth_header_name.data or "").strip(),
                "header_value": (self.auth_header_value.data or "").strip(),
            }
        return None

    def _answer(self) -> dict[str, Any]:
        rules: dict[str, Any] = {}
        for name in RULE_NAMES:
            kind = getattr(self, f"answer_{name}_kind").data
            expression = (getattr(self, f"answer_{name}").data or "").strip()
            if not kind or not expression:
                continue
            rule: dict[str, Any] = {kind: expression}
            equals_field = getattr(self, f"answer_{name}_equals", None)
            if equals_field is not None and kind != "status" and equals_field.data:
                words = [w.strip() for w in equals_field.data.split(",") if w.strip()]
                if words:
                    rule["equals"] = words
            rules[name] = rule
        return rules

    def _smtp(self) -> dict[str, Any]:
        smtp: dict[str, Any] = {"host": (self.smtp_host.data or "").strip()}
        if self.smtp_port.data:
            smtp["port"] = _number(self.smtp_port.data)
        if self.smtp_username.data:
            smtp["username"] = self.smtp_username.data.strip()
        smtp["password"] = self.smtp_password.data or ""
        smtp["starttls"] = self.smtp_security.data == "starttls"
        smtp["ssl"] = self.smtp_security.data == "ssl"
        return smtp

    # --- settings -> form (edit page) ------------------------------------------------

    def fill_from(self, destination: Destination) -> None:
        """The fields of the edit page; credentials stay empty (``secrets_set`` says which
        are stored)."""
        settings = destination.settings or {}
        self.name.data = destination.name
        self.kind.data = destination.kind.value
        self.url.data = settings.get("url") or ""
        self.timeout.data = _text(settings.get("timeout"))
        self.include_appended.data = settings.get("include_appended") is not False
        auth = _mapping(settings.get("auth"))
        self.auth_type.data = auth.get("type") or "none"
        self.auth_username.data = auth.get("username") or ""
        self.auth_header_name.data = auth.get("header_name") or ""
        self.field_mapping.data = _lines(settings.get("field_mapping"))
        self.static_fields.data = _lines(settings.get("static_fields"))
        self.xml_format.data = settings.get("format") or "adf"
        self.xml_template.data = settings.get("template") or ""
        self.adf_vendor_name.data = settings.get("vendor_name") or ""
        self.email_to.data = _addresses(settings.get("to"))
        self.email_cc.data = _addresses(settings.get("cc"))
        self.email_from.data = _addresses(settings.get("from"))
        self.email_reply_to.data = _addresses(settings.get("reply_to"))
        self.withhold_contact.data = bool(settings.get("withhold_contact_in_offer"))
        smtp = _mapping(settings.get("smtp"))
        self.smtp_host.data = smtp.get("host") or ""
        self.smtp_port.data = _text(smtp.get("port"))
        self.smtp_username.data = smtp.get("username") or ""
        self.smtp_security.data = (
            "ssl" if smtp.get("ssl") else "starttls" if smtp.get("starttls") else "none"
        )
        self.fax_number.data = settings.get("number") or ""
        self.fax_mode.data = settings.get("mode") or "api"
        self.fax_gateway.data = settings.get("gateway") or ""
        self.keep_plus.data = bool(settings.get("keep_plus"))
        if destination.kind.value == "sms":
            self.sms_to.data = settings.get("to") or ""
            self.sms_from.data = settings.get("from") or ""
            self.sms_messaging_service_sid.data = settings.get("messaging_service_sid") or ""
            self.sms_base_url.data = settings.get("base_url") or DEFAULT_SMS_BASE_URL
            self.sms_account_sid.data = settings.get("account_sid") or ""
        answer = _mapping(settings.get("answer"))
        for name in RULE_NAMES:
            kind, expression, equals = _rule_parts(answer.get(name))
            getattr(self, f"answer_{name}_kind").data = kind
            getattr(self, f"answer_{name}").data = expression
            if name in YES_NO_RULES:
                getattr(self, f"answer_{name}_equals").data = equals

    # --- errors ----------------------------------------------------------------------

    def show_errors(self, errors: list[FieldError]) -> None:
        """Each error next to the field it names; the rest above the form."""
        for error in errors:
            field = getattr(self, _field_for(error.field, self.kind.data), None)
            if field is None:
                self.form_errors.append(f"{error.field}: {error.message}")
                continue
            setting = error.field.removeprefix("settings.")
            # Say which part when the field holds many settings ("field_mapping.email").
            where = f"{setting}: " if "." in setting or " " in setting else ""
            field.errors = [*field.errors, f"{where}{error.message}"]

    def shown_fields(self, kind: str) -> frozenset[str]:
        """The names of the fields the form shows for ``kind``."""
        names = set(COMMON_FIELDS)
        for section in KIND_SECTIONS.get(kind, ()):
            names.update(SECTION_FIELDS[section])
        return frozenset(names)

    def lift_hidden_errors(self, kind: str) -> None:
        """Errors of fields the form does not show for ``kind`` go above the form."""
        shown = self.shown_fields(kind)
        for field in self:
            if field.errors and field.name not in shown and field.name != "csrf_token":
                self.form_errors.extend(f"{field.label.text}: {e}" for e in field.errors)
                field.errors = []


def _field_for(name: str, kind: str | None = None) -> str:
    setting = name.removeprefix("settings.")
    if kind == "sms" and setting in _SMS_ERROR_FIELDS:
        return _SMS_ERROR_FIELDS[setting]
    while setting:
        if setting in _ERROR_FIELDS:
            return _ERROR_FIELDS[setting]
        cut = max(setting.rfind("."), setting.rfind(" "))
        if cut <= 0:
            break
        setting = setting[:cut]
    return ""


def _pairs(field: TextAreaField) -> dict[str, str] | None:
    """``ours = theirs`` lines as a mapping, in order; None (with the error) when a
    line has no "="."""
    pairs: dict[str, str] = {}
    for number, line in enumerate((field.data or "").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        ours, sign, theirs = line.partition("=")
        if not sign or not ours.strip():
            field.errors = [*field.errors, f"line {number}: write it as our_field = their_name"]
            return None
        pairs[ours.strip()] = theirs.strip()
    return pairs


def _number(value: str) -> Any:
    """A number when it reads as one, else the text (the connector names the setting)."""
    value = value.strip()
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _lines(value: Any) -> str:
    if not isinstance(value, Mapping):
        return ""
    return "\n".join(f"{ours} = {theirs}" for ours, theirs in value.items())


def _addresses(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value or "")


def _rule_parts(spec: Any) -> tuple[str, str, str]:
    """(kind, expression, equals) of a stored answer rule, in any of its written forms."""
    if spec in (None, "", []):
        return "", "", ""
    if isinstance(spec, bool):
        return "", "", ""
    if isinstance(spec, int):
        return "status", str(spec), ""
    if isinstance(spec, list | tuple):
        return "status", ",".join(str(s) for s in spec), ""
    if isinstance(spec, str):
        kind, sep, expression = spec.partition(":")
        if sep and kind in {c.value for c in RULE_KINDS if c.value}:
            return kind, expression.strip(), ""
        return "", spec, ""
    if isinstance(spec, Mapping):
        for kind in ("status", "json", "xpath", "regex"):
            if kind in spec:
                expression = spec[kind]
                if isinstance(expression, list | tuple):
                    expression = ",".join(str(s) for s in expression)
                equals = spec.get("equals")
                if isinstance(equals, list | tuple):
                    equals = ", ".join(str(e) for e in equals)
                return kind, str(expression), str(equals or "")
    return "", "", ""


class ActionForm(FlaskForm):
    """Only the CSRF token (test, rotate, resume, switch buttons)."""


def _duration(hours: int) -> str:
    count, unit = (hours, "hour") if hours < 24 else (hours // 24, "day")
    return f"{count} {unit}" + ("s" if count != 1 else "")


class PauseForm(FlaskForm):
    hours = SelectField(
        "Pause for", choices=options((str(h), _duration(h)) for h in destinations.PAUSE_CHOICES)
    )
