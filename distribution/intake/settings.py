"""A vendor's intake settings: required fields, dedupe window, aliases, scoring, XML layouts.

``update`` validates everything first and changes nothing unless all of it is
good, so a vendor never ends up with half a configuration.
"""

from __future__ import annotations

import re
from typing import Any

from distribution.errors import FieldError, InvalidInput
from distribution.intake.pipeline import LEAD_FIELDS
from distribution.intake.scoring import validate_score_rules
from distribution.models import Vendor
from distribution.vendor_settings import VendorSettings

_ALIAS_LINE = re.compile(r"^\s*([^=]+?)\s*=\s*([a-z_]+)\s*$")


def current(vendor: Vendor) -> dict[str, Any]:
    """The settings with defaults filled in, as the settings page shows them."""
    settings = VendorSettings.of(vendor)
    return {
        "required_fields": settings.required_fields,
        "dedupe_window_days": settings.dedupe_window_days,
        "default_region": vendor.default_region,
        "batch_limit": settings.batch_limit,
        "field_aliases": settings.field_aliases,
        "score_rules": settings.score_rules,
        "grade_bands": settings.grade_bands,
        "xml_layouts": settings.xml_layouts,
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


def update(
    vendor: Vendor,
    *,
    required_fields: list[str],
    dedupe_window_days: int,
    default_region: str,
    batch_limit: int,
    field_aliases: dict[str, str],
    score_rules: list[dict[str, Any]],
    grade_bands: dict[str, int],
    xml_layouts: list[dict[str, Any]],
) -> None:
    errors = _check(required_fields, dedupe_window_days, default_region, batch_limit, grade_bands)
    errors += [
        FieldError("score_rules", f"{e.field}: {e.message}")
        for e in validate_score_rules(score_rules)
    ]
    errors += _check_layouts(xml_layouts)
    if errors:
        raise InvalidInput(errors)
    vendor.default_region = default_region.upper()
    vendor.settings = (vendor.settings or {}) | {
        "required_fields": required_fields,
        "dedupe_window_days": dedupe_window_days,
        "batch_limit": batch_limit,
        "field_aliases": field_aliases,
        "score_rules": score_rules,
        "grade_bands": grade_bands,
        "xml_layouts": xml_layouts,
    }


def _check(
    required: list[str], window: int, region: str, batch_limit: int, bands: dict[str, int]
) -> list[FieldError]:
    errors = []
    for entry in required:
        unknown = [f for f in entry.split("|") if f not in LEAD_FIELDS]
        if unknown:
            errors.append(FieldError("required_fields", f"'{unknown[0]}' is not a lead field"))
    if not 0 <= window <= 3650:
        errors.append(FieldError("dedupe_window_days", "must be between 0 (off) and 3650"))
    if not re.fullmatch(r"[A-Za-z]{2}", region or ""):
        errors.append(FieldError("default_region", "must be a two-letter country code like US"))
    if not 1 <= batch_limit <= 1000:
        errors.append(FieldError("batch_limit", "must be between 1 and 1000"))
    a, b, c = (bands.get(g) for g in ("A", "B", "C"))
    if not (isinstance(a, int) and isinstance(b, int) and isinstance(c, int) and a > b > c >= 0):
        errors.append(FieldError("grade_bands", "need whole numbers with A > B > C >= 0"))
    return errors


def _check_layouts(layouts: list[dict[str, Any]]) -> list[FieldError]:
    from connectors import xmlmap

    errors = []
    if not isinstance(layouts, list):
        return [FieldError("xml_layouts", "must be a list of layouts")]
    for index, layout in enumerate(layouts):
        where = f"xml_layouts[{index}]"
        if not isinstance(layout, dict) or not layout.get("root") or not layout.get("mapping"):
            errors.append(FieldError(where, "needs 'root', 'record_xpath' and 'mapping'"))
            continue
        unknown = [f for f in layout["mapping"] if f not in LEAD_FIELDS]
        if unknown:
            errors.append(FieldError(where, f"'{unknown[0]}' is not a lead field"))
        problems = xmlmap.validate_mapping(layout["mapping"], layout.get("namespaces"))
        for field, message in _pairs(problems):
            errors.append(FieldError(f"{where}.mapping.{field}", message))
    return errors


def _pairs(problems: Any) -> list[tuple[str, str]]:
    if isinstance(problems, dict):
        return list(problems.items())
    return [(getattr(p, "field", "?"), getattr(p, "message", str(p))) for p in problems or []]
