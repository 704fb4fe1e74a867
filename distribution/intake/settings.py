"""A vendor's intake settings: required fields, dedupe window, aliases, scoring, XML layouts.

Aliases are vendor-wide (``field_aliases``) and per sender (``sender_aliases``: a
live source key's id -> that sender's own aliases, which win over the vendor-wide
ones for a lead that came with that key).

``save`` is the one way a person or the management API changes them: it checks
every setting (each error names its field, like ``score_rules[2].op``), changes
nothing unless all of it is good, writes the JSON settings and one audit entry.
``preview_grades`` and ``try_layout`` answer "what would this do?" without saving:
the grade moves new scoring would cause on the vendor's latest leads, and the
fields a layout reads from a pasted sample document.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from connectors import xmlmap
from connectors.errors import ParseError, UnsafeDocument
from connectors.fields import FULL_NAME
from distribution import audit
from distribution.actors import Actor
from distribution.db import db
from distribution.errors import FieldError, InvalidInput
from distribution.intake import geo
from distribution.intake.pipeline import LEAD_FIELDS
from distribution.intake.scoring import score, validate_score_rules, with_warnings
from distribution.models import ApiKey, Lead, Vendor
from distribution.vendor_settings import VendorSettings

SETTINGS = (
    "required_fields",
    "dedupe_window_days",
    "default_region",
    "batch_limit",
    "field_aliases",
    "sender_aliases",
    "score_rules",
    "grade_bands",
    "xml_layouts",
    "fraud_review_threshold",
)
GRADES = ("A", "B", "C")
PREVIEW_LEADS = 200
MAX_WINDOW_DAYS = 3650
MAX_ALIASES = 200
MAX_RULES = 100
MAX_LAYOUTS = 20
MAX_SAMPLE_BYTES = 256 * 1024
AUDIT_SUBJECT = "intake_settings"

_ALIAS_LINE = re.compile(r"^\s*([^=]+?)\s*=\s*([a-z_]+)\s*$")
_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9._-]{0,99}")
_ALIAS_TARGETS = frozenset(LEAD_FIELDS) | {FULL_NAME}


def current(vendor: Vendor) -> dict[str, Any]:
    """The settings with defaults filled in, as the settings page shows them."""
    settings = VendorSettings.of(vendor)
    return {
        "required_fields": settings.required_fields,
        "dedupe_window_days": settings.dedupe_window_days,
        "default_region": vendor.default_region,
        "batch_limit": settings.batch_limit,
        "field_aliases": settings.field_aliases,
        "sender_aliases": _live(vendor, settings.sender_aliases),
        "score_rules": settings.score_rules,
        "grade_bands": settings.grade_bands,
        "xml_layouts": settings.xml_layouts,
        "fraud_review_threshold": settings.fraud_review_threshold,
    }


def parse_aliases(text: str) -> dict[str, str]:
    """``alias = field`` lines into a mapping; ``InvalidInput`` names the bad line."""
    aliases: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _ALIAS_LINE.match(line)
        if not match:
            raise InvalidInput(
                [FieldError("field_aliases", f"line {number}: write 'alias = field'")]
            )
        alias, target = match.groups()
        if target not in LEAD_FIELDS:
            message = f"line {number}: '{target}' is not a lead field"
            raise InvalidInput([FieldError("field_aliases", message)])
        aliases[alias] = target
    return aliases


def save(vendor: Vendor, changes: Mapping[str, Any], actor: Actor) -> dict[str, Any]:
    """Apply ``changes`` (any of ``SETTINGS``; the rest stay) and audit them; the caller commits.

    Raises ``InvalidInput`` naming every bad field, having changed nothing. Returns
    the settings as ``current`` now reads them.
    """
    before = current(vendor)
    after = _checked(vendor, changes)
    _write(vendor, after)
    audit.record(vendor, AUDIT_SUBJECT, vendor.id, "changed intake settings", actor,
                 before=before, after=current(vendor))  # fmt: skip
    return current(vendor)


def update(vendor: Vendor, **values: Any) -> None:
    """Set every setting at once without an audit entry: for seeding a new vendor (the demo)."""
    _write(vendor, _checked(vendor, values))


def history(vendor: Vendor, limit: int = 20) -> list[Any]:
    """The latest audit entries of the vendor's intake settings, newest first."""
    return audit.entries(vendor, AUDIT_SUBJECT, vendor.id, limit=limit)


def senders(vendor: Vendor) -> list[ApiKey]:
    """The vendor's live lead-source keys (not revoked, not a management, partner or buyer
    key), oldest first: the senders that may have aliases of their own."""
    return list(
        db.session.scalars(
            select(ApiKey)
            .where(
                ApiKey.vendor_id == vendor.id,
                ApiKey.revoked_at.is_(None),
                ApiKey.admin.is_(False),
                ApiKey.partner_id.is_(None),
                ApiKey.buyer_id.is_(None),
            )
            .order_by(ApiKey.id)
        )
    )


def _live(vendor: Vendor, by_sender: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    # A revoked key posts nothing: its aliases are not shown, and go at the next save.
    if not by_sender:
        return {}
    live = {str(key.id) for key in senders(vendor)}
    return {key_id: aliases for key_id, aliases in by_sender.items() if key_id in live}


def countries() -> list[tuple[str, str]]:
    """The countries a default region can be, as (code, name)."""
    return geo.countries()


# -- checking -------------------------------------------------------------------------------


def _checked(vendor: Vendor, changes: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(changes, Mapping):
        raise InvalidInput([FieldError("settings", "must be an object of intake settings")])
    errors = [
        FieldError(str(name), f"is not an intake setting; use {', '.join(SETTINGS)}")
        for name in changes
        if name not in SETTINGS
    ]
    values = current(vendor) | {k: v for k, v in changes.items() if k in SETTINGS}
    errors += _check_required(values["required_fields"])
    errors += _check_whole(values["dedupe_window_days"], "dedupe_window_days", 0, MAX_WINDOW_DAYS)
    errors += _check_region(values["default_region"])
    errors += _check_whole(values["batch_limit"], "batch_limit", 1, 1000)
    errors += _check_aliases(values["field_aliases"])
    errors += _check_sender_aliases(vendor, values["sender_aliases"])
    errors += _check_scoring(values["score_rules"], values["grade_bands"])
    errors += _check_layouts(values["xml_layouts"])
    # 101: no score reaches it, so nothing waits for review.
    errors += _check_whole(values["fraud_review_threshold"], "fraud_review_threshold", 1, 101)
    if errors:
        raise InvalidInput(errors)
    values["default_region"] = values["default_region"].upper()
    values["field_aliases"] = {k.strip(): v for k, v in values["field_aliases"].items()}
    values["sender_aliases"] = {
        key_id: {k.strip(): v for k, v in aliases.items()}
        for key_id, aliases in values["sender_aliases"].items()
        if aliases
    }
    return values


def _write(vendor: Vendor, values: dict[str, Any]) -> None:
    vendor.default_region = values["default_region"]
    stored = {k: v for k, v in values.items() if k != "default_region"}
    vendor.settings = (vendor.settings or {}) | stored


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_whole(value: Any, name: str, low: int, high: int) -> list[FieldError]:
    if not _is_whole(value) or not low <= value <= high:
        extra = " (0 turns it off)" if low == 0 else ""
        return [FieldError(name, f"must be a whole number from {low} to {high}{extra}")]
    return []


def _check_required(required: Any) -> list[FieldError]:
    if not isinstance(required, list) or not all(isinstance(e, str) for e in required):
        return [FieldError("required_fields", "must be a list like ['email|phone', 'country']")]
    errors = []
    for index, entry in enumerate(required):
        choices = [name.strip() for name in entry.split("|")]
        unknown = [name for name in choices if name not in LEAD_FIELDS]
        if unknown:
            message = f"'{unknown[0]}' is not a lead field"
            errors.append(FieldError(f"required_fields[{index}]", message))
    return errors


def _check_region(region: Any) -> list[FieldError]:
    if not isinstance(region, str) or not re.fullmatch(r"[A-Za-z]{2}", region):
        return [FieldError("default_region", "must be a two-letter country code like US")]
    if region.upper() not in {code for code, _ in geo.countries()}:
        return [FieldError("default_region", f"'{region}' is not a country code")]
    return []


def _check_aliases(aliases: Any, name: str = "field_aliases") -> list[FieldError]:
    if not isinstance(aliases, Mapping):
        return [FieldError(name, "must map a sender's field name to one of ours")]
    if len(aliases) > MAX_ALIASES:
        return [FieldError(name, f"at most {MAX_ALIASES} aliases")]
    errors = []
    for alias, target in aliases.items():
        if not isinstance(alias, str) or not alias.strip() or len(alias) > 100:
            errors.append(FieldError(name, "a sender's name is 1 to 100 characters"))
        elif not isinstance(target, str) or target not in _ALIAS_TARGETS:
            message = f"'{alias}' points to '{target}', which is not a lead field"
            errors.append(FieldError(f"{name}.{alias.strip()}", message))
    return errors


def _check_sender_aliases(vendor: Vendor, by_sender: Any) -> list[FieldError]:
    if not isinstance(by_sender, Mapping):
        message = "must map a source key's id to that sender's aliases"
        return [FieldError("sender_aliases", message)]
    live = {str(key.id) for key in senders(vendor)} if by_sender else set()
    errors = []
    for key_id, aliases in by_sender.items():
        name = f"sender_aliases.{key_id}"
        if not isinstance(key_id, str) or key_id not in live:
            errors.append(FieldError(name, f"'{key_id}' is not one of your live source keys"))
        else:
            errors += _check_aliases(aliases, name)
    return errors


def _check_scoring(rules: Any, bands: Any) -> list[FieldError]:
    errors = []
    if isinstance(rules, list) and not rules:
        errors.append(FieldError("score_rules", "add at least one rule"))
    elif isinstance(rules, list) and len(rules) > MAX_RULES:
        errors.append(FieldError("score_rules", f"at most {MAX_RULES} rules"))
    else:
        errors += [FieldError(f"score_{e.field}", e.message) for e in validate_score_rules(rules)]
    if not isinstance(bands, Mapping) or set(bands) != set(GRADES):
        return [*errors, FieldError("grade_bands", "give the lowest score of A, B and C")]
    wrong = [e for g in GRADES for e in _check_whole(bands[g], f"grade_bands.{g}", 0, 100_000)]
    if not wrong and not bands["A"] > bands["B"] > bands["C"]:
        wrong.append(FieldError("grade_bands", "need A above B above C"))
    return errors + wrong


def _check_layouts(layouts: Any) -> list[FieldError]:
    if not isinstance(layouts, list) or len(layouts) > MAX_LAYOUTS:
        return [FieldError("xml_layouts", f"must be a list of at most {MAX_LAYOUTS} layouts")]
    errors: list[FieldError] = []
    roots: set[str] = set()
    for index, layout in enumerate(layouts):
        errors += _layout_problems(layout, f"xml_layouts[{index}]", roots)
    return errors


def _layout_problems(layout: Any, where: str, roots: set[str]) -> list[FieldError]:
    if not isinstance(layout, Mapping):
        return [FieldError(where, "needs 'root', 'record_xpath' and 'mapping'")]
    errors = []
    root = layout.get("root")
    if not isinstance(root, str) or not _XML_NAME.fullmatch(root):
        errors.append(FieldError(f"{where}.root", "needs the root element's name, like leads"))
    elif root.lower() == "adf" or root in roots:
        errors.append(FieldError(f"{where}.root", f"<{root}> is ADF or another layout's root"))
    else:
        roots.add(root)
    mapping, spaces = layout.get("mapping"), layout.get("namespaces")
    if spaces is not None and not _texts_by_text(spaces):
        errors.append(FieldError(f"{where}.namespaces", "must map prefixes to namespace URIs"))
        spaces = None
    if not _texts_by_text(mapping) or not mapping:
        return [*errors, FieldError(f"{where}.mapping", "map at least one lead field to an XPath")]
    unknown = [name for name in mapping if name not in LEAD_FIELDS]
    if unknown:
        errors.append(FieldError(f"{where}.mapping.{unknown[0]}", "is not a lead field"))
    record = layout.get("record_xpath", "/*")
    for name, message in xmlmap.validate_mapping(mapping, spaces, record).items():
        errors.append(FieldError(f"{where}.{'mapping.' if name in mapping else ''}{name}", message))
    return errors


def _texts_by_text(value: Any) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


# -- what would it do -----------------------------------------------------------------------


@dataclass(frozen=True)
class GradeMove:
    """``count`` leads whose grade would change from ``before`` to ``after``."""

    before: str
    after: str
    count: int

    def sentence(self) -> str:
        """'7 leads would move from B to C'."""
        noun = "lead" if self.count == 1 else "leads"
        return f"{self.count} {noun} would move from {self.before} to {self.after}"


@dataclass(frozen=True)
class GradePreview:
    """What new scoring would do to the latest leads: how many were scored, and the moves."""

    scored: int
    moves: list[GradeMove]

    @property
    def moved(self) -> int:
        """How many leads change grade in all."""
        return sum(move.count for move in self.moves)

    def as_dict(self) -> dict[str, Any]:
        """The preview as the management API answers it."""
        return {
            "scored": self.scored,
            "moved": self.moved,
            "moves": [
                {"from": m.before, "to": m.after, "count": m.count, "sentence": m.sentence()}
                for m in self.moves
            ],
        }


def preview_grades(vendor: Vendor, changes: Mapping[str, Any]) -> GradePreview:
    """Re-score the vendor's latest ``PREVIEW_LEADS`` graded leads with the scoring in
    ``changes`` (rules and bands; the saved ones for what it leaves out), saving nothing.

    Uses the scoring functions intake uses, including the points an unreadable field
    costs, so a lead's grade here is the grade it would have got on arrival.
    """
    values = _checked(vendor, changes)  # the checks a save makes, so a preview never
    rules, bands = values["score_rules"], values["grade_bands"]  # shows what cannot be saved
    leads = db.session.scalars(
        select(Lead)
        .where(Lead.vendor_id == vendor.id, Lead.grade.is_not(None))
        .order_by(Lead.received_at.desc(), Lead.id.desc())
        .limit(PREVIEW_LEADS)
    ).all()
    moves: Counter[tuple[str, str]] = Counter()
    for lead in leads:
        fields = {name: getattr(lead, name, None) for name in LEAD_FIELDS}
        warnings = [FieldError(w.get("field", ""), w.get("message", "")) for w in lead.warnings]
        scored = score(fields | {"extras": lead.extras or {}}, rules, bands)
        scored = with_warnings(scored, warnings, bands)
        if scored.grade != lead.grade:
            moves[(lead.grade or "ungraded", scored.grade)] += 1
    ordered = sorted(moves.items(), key=lambda item: (-item[1], item[0]))
    return GradePreview(len(leads), [GradeMove(a, b, n) for (a, b), n in ordered])


def try_layout(layout: Any, sample: str | bytes) -> list[dict[str, str]]:
    """The fields ``layout`` reads from each record of the ``sample`` document, saving nothing.

    A bad layout raises ``InvalidInput`` naming its parts (``layout.mapping.email``); a
    sample that is malformed, too big or unsafe (entities, external DTDs) raises it
    naming ``sample``, with the hardened parser's reason.
    """
    errors = _layout_problems(layout, "layout", set())
    data = sample.encode("utf-8") if isinstance(sample, str) else sample
    if not isinstance(data, bytes) or not data.strip():
        errors.append(FieldError("sample", "paste an XML document"))
    elif len(data) > MAX_SAMPLE_BYTES:
        message = f"is {len(data)} bytes; a sample may be at most {MAX_SAMPLE_BYTES}"
        errors.append(FieldError("sample", message))
    if errors:
        raise InvalidInput(errors)
    try:
        return xmlmap.parse_mapped_xml(
            data,
            layout["mapping"],
            layout.get("record_xpath", "/*"),
            namespaces=layout.get("namespaces"),
            max_bytes=MAX_SAMPLE_BYTES,
        )
    except UnsafeDocument as exc:
        raise InvalidInput([FieldError("sample", f"refused as unsafe: {exc.message}")]) from exc
    except ParseError as exc:
        raise InvalidInput([FieldError("sample", exc.message)]) from exc
