"""The intake settings form: plain fields, and table editors as rows of inputs.

Without JavaScript a table editor is a few rows of inputs with blank rows at the
end; "add more rows" posts the form back with more blank rows. ``read`` turns the
rows into the settings the domain checks, and remembers which input each setting
came from, so a domain error (``score_rules[2].op``) lands beside its input.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    Field,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional

from distribution.intake import settings as intake_settings
from distribution.intake.pipeline import LEAD_FIELDS
from distribution.intake.scoring import OPERATORS
from portal.choices import options

BLANK_ROWS = 3
_FIELDS = options([("", "—"), *((name, name.replace("_", " ")) for name in LEAD_FIELDS)])
_ALIAS_TARGETS = [*_FIELDS, *options([("full_name", "full name (split in two)")])]
_LISTS = ("in", "not_in", "prefix", "contains")


class RequirementRow(Form):
    first = SelectField("Required field", choices=_FIELDS, default="")
    second = SelectField("or", choices=_FIELDS, default="")
    third = SelectField("or", choices=_FIELDS, default="")


class AliasRow(Form):
    theirs = StringField("Their field name")
    ours = SelectField("Our field", choices=_ALIAS_TARGETS, default="")


class SenderAliasRow(Form):
    sender = SelectField("Sender", choices=options([("", "—")]), default="")
    theirs = StringField("Their field name")
    ours = SelectField("Our field", choices=_ALIAS_TARGETS, default="")


class RuleRow(Form):
    field = StringField("Field")
    op = SelectField("Test", choices=options([("", "—"), *((o, o) for o in OPERATORS)]))
    value = StringField("Value")
    points = IntegerField("Points", validators=[Optional()])
    label = StringField("Label")


class LayoutRow(Form):
    root = StringField("Root element")
    record_xpath = StringField("Record XPath")


class MappingRow(Form):
    layout = StringField("Layout (root element)")
    field = SelectField("Our field", choices=_FIELDS, default="")
    xpath = StringField("XPath")


class IntakeSettingsForm(FlaskForm):
    dedupe_window_days = IntegerField("Dedupe window (days)")
    default_region = SelectField("Default region")
    batch_limit = IntegerField("Most leads in one request")
    fraud_review_threshold = IntegerField("Fraud score held for review")
    required = FieldList(FormField(RequirementRow))
    aliases = FieldList(FormField(AliasRow))
    sender_aliases = FieldList(FormField(SenderAliasRow))
    band_a = IntegerField("Lowest score of an A")
    band_b = IntegerField("Lowest score of a B")
    band_c = IntegerField("Lowest score of a C")
    rules = FieldList(FormField(RuleRow))
    layouts = FieldList(FormField(LayoutRow))
    mappings = FieldList(FormField(MappingRow))
    sample_layout = StringField("Read it with the layout of root element", validators=[Optional()])
    sample = TextAreaField("Sample document", validators=[Optional()])

    TABLES = ("required", "aliases", "sender_aliases", "rules", "layouts", "mappings")
    # The (key id, name) of the senders a sender alias may pick; ``filled`` sets them.
    sender_choices: tuple[tuple[str, str], ...] = ()

    def leaves(self) -> Iterator[Field]:
        """Every input, table cells included, for the error summary."""
        for item in self:
            if isinstance(item, FieldList):
                for row in item:
                    yield from row.form
            else:
                yield item

    def add_blank_rows(self, count: int = BLANK_ROWS) -> None:
        """``count`` more empty rows in every table."""
        for name in self.TABLES:
            for _ in range(count):
                self[name].append_entry()
        self.offer_senders()
        self.name_cells()

    def offer_senders(self) -> None:
        """Let each sender alias row pick one of ``sender_choices``."""
        for row in self.sender_aliases:
            row.form.sender.choices = options([("", "—"), *self.sender_choices])

    def name_cells(self) -> None:
        """Give each cell a label that says its row, as the summary and screen readers read it."""
        for name in self.TABLES:
            for number, row in enumerate(self[name], start=1):
                for cell in row.form:
                    cell.label.text = f"{_ROW_NAMES[name]} {number}: {_bare(cell.label.text)}"


_ROW_NAMES = {
    "required": "Requirement",
    "aliases": "Alias",
    "sender_aliases": "Sender alias",
    "rules": "Rule",
    "layouts": "Layout",
    "mappings": "Layout field",
}


def _bare(label: str) -> str:
    return label.split(": ", 1)[-1]


class Summary:
    """What ``error_summary`` reads: every input of the form, table cells included."""

    def __init__(self, form: IntakeSettingsForm):
        self._form = form
        self.form_errors = form.form_errors

    def __iter__(self) -> Iterator[Field]:
        return self._form.leaves()


def filled(
    values: dict[str, Any], senders: list[tuple[str, str]], formdata: Any = None
) -> IntakeSettingsForm:
    """The form showing ``values`` (as ``intake_settings.current`` gives them) and blank rows;
    ``senders`` are the (key id, name) a sender alias may pick."""
    form = IntakeSettingsForm(formdata=formdata)
    form.default_region.choices = options(intake_settings.countries())
    form.sender_choices = tuple(senders)
    if formdata is not None:
        form.offer_senders()
        form.name_cells()
        return form
    form.dedupe_window_days.data = values["dedupe_window_days"]
    form.default_region.data = values["default_region"]
    form.batch_limit.data = values["batch_limit"]
    form.fraud_review_threshold.data = values["fraud_review_threshold"]
    bands = values["grade_bands"]
    form.band_a.data, form.band_b.data, form.band_c.data = (bands.get(g) for g in "ABC")
    for entry in values["required_fields"]:
        choices = [*(name.strip() for name in entry.split("|")), "", ""]
        form.required.append_entry({"first": choices[0], "second": choices[1], "third": choices[2]})
    for theirs, ours in values["field_aliases"].items():
        form.aliases.append_entry({"theirs": theirs, "ours": ours})
    for sender, aliases in values["sender_aliases"].items():
        for theirs, ours in aliases.items():
            form.sender_aliases.append_entry({"sender": sender, "theirs": theirs, "ours": ours})
    for rule in values["score_rules"]:
        form.rules.append_entry(rule | {"value": _shown(rule.get("value"))})
    for layout in values["xml_layouts"]:
        form.layouts.append_entry(layout)
        for name, xpath in (layout.get("mapping") or {}).items():
            form.mappings.append_entry({"layout": layout["root"], "field": name, "xpath": xpath})
    if values["xml_layouts"]:
        form.sample_layout.data = values["xml_layouts"][0]["root"]
    form.add_blank_rows()
    return form


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value)
    return str(value)


def read(
    form: IntakeSettingsForm, saved: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Field]]:
    """The settings the rows hold, and the input each domain field name points at.

    Blank rows are skipped; ``saved`` supplies what the page does not edit (a layout's
    namespaces).
    """
    scalars = ("dedupe_window_days", "default_region", "batch_limit")
    where: dict[str, Field] = {name: form[name] for name in scalars}
    changes: dict[str, Any] = {
        "dedupe_window_days": form.dedupe_window_days.data,
        "default_region": form.default_region.data or "",
        "batch_limit": form.batch_limit.data,
        "grade_bands": {"A": form.band_a.data, "B": form.band_b.data, "C": form.band_c.data},
    }
    if form.fraud_review_threshold.raw_data:  # a post without the field keeps the saved one
        changes["fraud_review_threshold"] = form.fraud_review_threshold.data
        where["fraud_review_threshold"] = form.fraud_review_threshold
    where |= {"grade_bands": form.band_a, "grade_bands.A": form.band_a,
              "grade_bands.B": form.band_b, "grade_bands.C": form.band_c}  # fmt: skip
    changes["required_fields"] = _requirements(form, where)
    changes["field_aliases"] = _aliases(form, where)
    changes["sender_aliases"] = _sender_aliases(form, where)
    changes["score_rules"] = _rules(form, where)
    changes["xml_layouts"] = _layouts(form, saved, where)
    return changes, where


def _requirements(form: IntakeSettingsForm, where: dict[str, Field]) -> list[str]:
    required = []
    for row in form.required:
        cells = row.form
        names = [c.data for c in (cells.first, cells.second, cells.third) if c.data]
        if names:
            where[f"required_fields[{len(required)}]"] = cells.first
            required.append("|".join(dict.fromkeys(names)))
    where["required_fields"] = form.required[0].form.first if form.required else form.batch_limit
    return required


def _aliases(form: IntakeSettingsForm, where: dict[str, Field]) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for row in form.aliases:
        theirs, ours = (row.form.theirs.data or "").strip(), row.form.ours.data or ""
        if not theirs and not ours:
            continue
        where[f"field_aliases.{theirs}"] = row.form.ours if theirs else row.form.theirs
        where.setdefault("field_aliases", row.form.theirs)
        aliases[theirs] = ours
    return aliases


def _sender_aliases(form: IntakeSettingsForm, where: dict[str, Field]) -> dict[str, Any]:
    by_sender: dict[str, dict[str, str]] = {}
    for row in form.sender_aliases:
        cells = row.form
        sender, theirs = cells.sender.data or "", (cells.theirs.data or "").strip()
        ours = cells.ours.data or ""
        if not (sender or theirs or ours):
            continue
        if not sender or not theirs:
            missing = cells.theirs if sender else cells.sender
            message = "type the name this sender uses" if sender else "choose the sender"
            missing.errors = [*missing.errors, message]
            continue
        where.setdefault("sender_aliases", cells.sender)
        where.setdefault(f"sender_aliases.{sender}", cells.sender)
        where[f"sender_aliases.{sender}.{theirs}"] = cells.ours
        by_sender.setdefault(sender, {})[theirs] = ours
    return by_sender


def _rules(form: IntakeSettingsForm, where: dict[str, Field]) -> list[dict[str, Any]]:
    rules = []
    for row in form.rules:
        cells = row.form
        if not any(c.data not in (None, "") for c in cells):
            continue
        prefix = f"score_rules[{len(rules)}]"
        for name in ("field", "op", "value", "points", "label"):
            where[f"{prefix}.{name}"] = cells[name]
        where[prefix] = cells.field
        rule: dict[str, Any] = {"field": (cells.field.data or "").strip(), "op": cells.op.data,
                                "points": cells.points.data}  # fmt: skip
        if cells.op.data not in ("present", "absent"):
            rule["value"] = _value(cells.op.data, cells.value.data or "")
        if (cells.label.data or "").strip():
            rule["label"] = cells.label.data.strip()
        rules.append(rule)
    where["score_rules"] = form.rules[0].form.field if form.rules else form.band_a
    return rules


def _value(op: str, text: str) -> Any:
    """A rule's value as typed: lists split on commas, numbers and true/false read."""
    text = text.strip()
    if op in _LISTS:
        items = [item.strip() for item in text.split(",") if item.strip()]
        return items if op in ("in", "not_in") or len(items) != 1 else items[0]
    if op in ("gte", "lte"):
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() else number
    if op in ("eq", "ne") and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def _layouts(
    form: IntakeSettingsForm, saved: dict[str, Any], where: dict[str, Field]
) -> list[dict[str, Any]]:
    spaces = {layout.get("root"): layout.get("namespaces") for layout in saved["xml_layouts"]}
    layouts: list[dict[str, Any]] = []
    index_of: dict[str, int] = {}
    for row in form.layouts:
        root = (row.form.root.data or "").strip()
        record = (row.form.record_xpath.data or "").strip()
        if not root and not record:
            continue
        prefix = f"xml_layouts[{len(layouts)}]"
        for part in ("", ".root", ".mapping", ".namespaces"):
            where[prefix + part] = row.form.root
        where[f"{prefix}.record_xpath"] = row.form.record_xpath
        layout: dict[str, Any] = {"root": root, "record_xpath": record or "/*", "mapping": {}}
        if spaces.get(root):
            layout["namespaces"] = spaces[root]
        index_of.setdefault(root, len(layouts))
        layouts.append(layout)
    for row in form.mappings:
        cells = row.form
        root, name = (cells.layout.data or "").strip(), cells.field.data or ""
        xpath = (cells.xpath.data or "").strip()
        if not (root or name or xpath):
            continue
        if root not in index_of:
            cells.layout.errors = [*cells.layout.errors, "name a root element from the layouts"]
            continue
        prefix = f"xml_layouts[{index_of[root]}].mapping.{name}"
        where[prefix] = cells.xpath if name else cells.field
        layouts[index_of[root]]["mapping"][name] = xpath
    where["xml_layouts"] = form.layouts[0].form.root if form.layouts else form.band_a
    return layouts


def layout_to_try(changes: dict[str, Any], root: str) -> dict[str, Any] | None:
    """The posted layout whose root element is ``root`` (the first one when ``root`` is blank)."""
    layouts = changes.get("xml_layouts") or []
    for layout in layouts:
        if layout["root"] == root.strip():
            return layout
    return layouts[0] if layouts and not root.strip() else None
