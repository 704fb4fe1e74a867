"""Is a normalized lead complete enough to keep? The vendor's required fields decide.

A requirement is a field name or alternatives joined by ``|``: ``"email|phone"``
is met by either. Only an unmet requirement rejects a lead: a value that could not
be read in a field the lead can do without (a placeholder phone beside a good
e-mail) is a warning, left out of the lead and shown beside it. A rejected lead
reports every problem at once, in the order of the lead's fields, so a sender
fixes a payload in one round trip.
"""

from __future__ import annotations

from distribution.errors import FieldError
from distribution.intake.normalize import CANONICAL_FIELDS, NormalizedLead
from distribution.vendor_settings import DEFAULT_REQUIRED

__all__ = ["DEFAULT_REQUIRED", "validate"]
_ORDER = {name: index for index, name in enumerate(CANONICAL_FIELDS)}
# A mobile number is a phone: ADF senders often give only a cellphone.
_MET_BY = {"phone": ("phone", "mobile")}


def validate(normalized: NormalizedLead, required: list[str] | None = None) -> list[FieldError]:
    """Why the lead cannot be kept: empty when every requirement is met.

    An unmet requirement whose field was given but unreadable is reported with the
    normalization error, which says what is wrong with it, not as "is required".
    When the lead is rejected, its other unreadable fields are reported too.
    """
    errors: list[FieldError] = []
    for entry in DEFAULT_REQUIRED if required is None else required:
        choices = [name.strip() for name in str(entry).split("|") if name.strip()]
        met_by = {n for name in choices for n in _MET_BY.get(name, (name,))}
        if not choices or any(_present(normalized.fields.get(n)) for n in met_by):
            continue
        unreadable = [e for e in normalized.errors if e.field in met_by]
        if unreadable:
            errors += [e for e in unreadable if e not in errors]
            continue
        message = "is required"
        if len(choices) > 1:
            message += f" (or give {' or '.join(choices[1:])})"
        errors.append(FieldError(choices[0], message))
    if errors:
        errors += [e for e in normalized.errors if e not in errors]
    return _ordered(errors)


def warnings(normalized: NormalizedLead, errors: list[FieldError]) -> list[FieldError]:
    """The unreadable fields of a lead that is kept anyway (none when it is rejected)."""
    return [] if errors else _ordered(normalized.errors)


def _ordered(errors: list[FieldError]) -> list[FieldError]:
    return sorted(errors, key=lambda e: _ORDER.get(e.field, len(_ORDER)))


def _present(value: object) -> bool:
    return value is not None and value != ""
