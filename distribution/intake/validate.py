"""Is a normalized lead complete enough to keep? The vendor's required fields decide.

A requirement is a field name or alternatives joined by ``|``: ``"email|phone"``
is met by either. Every error comes back at once, in the order of the lead's
fields, so a sender fixes a payload in one round trip.
"""

from __future__ import annotations

from distribution.errors import FieldError
from distribution.intake.normalize import CANONICAL_FIELDS, NormalizedLead
from distribution.vendor_settings import DEFAULT_REQUIRED

__all__ = ["DEFAULT_REQUIRED", "validate"]
_ORDER = {name: index for index, name in enumerate(CANONICAL_FIELDS)}


def validate(normalized: NormalizedLead, required: list[str] | None = None) -> list[FieldError]:
    """The normalization errors plus one error per requirement the lead does not meet.

    A requirement whose field was given but unreadable is not reported twice: the
    normalization error already says what is wrong with it.
    """
    errors = list(normalized.errors)
    unreadable = {e.field for e in errors}
    for entry in DEFAULT_REQUIRED if required is None else required:
        choices = [name.strip() for name in str(entry).split("|") if name.strip()]
        if not choices or any(_present(normalized.fields.get(n)) for n in choices):
            continue
        if unreadable.intersection(choices):
            continue
        message = "is required"
        if len(choices) > 1:
            message += f" (or give {' or '.join(choices[1:])})"
        errors.append(FieldError(choices[0], message))
    return sorted(errors, key=lambda e: _ORDER.get(e.field, len(_ORDER)))


def _present(value: object) -> bool:
    return value is not None and value != ""
