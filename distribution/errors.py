"""Domain errors: values the caller can show a person or a machine and act on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


@dataclass
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


def storable(text: str) -> bool:
    """False for text no database column takes: a NUL, or a lone UTF-16 surrogate.

    PostgreSQL refuses a statement carrying either outright, so input is checked
    for them before it is saved or compared with anything.
    """
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class InvalidInput(DomainError):
    """Input that fails validation; carries one message per offending field."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))


class LoginFailed(DomainError):
    """Wrong email or password (deliberately not saying which)."""


@dataclass
class AccountLocked(DomainError):
    """Too many wrong passwords; the account opens again at ``until``."""

    until_iso: str
    minutes: int = field(default=0)

    def __str__(self) -> str:
        return f"account locked for {self.minutes} more minute(s)"


class NotFound(DomainError):
    """Nothing by that id that this actor may see (foreign ids look exactly like missing ones)."""


class ClaimConflict(DomainError):
    """Someone else got there first: the lead was claimed, answered or moved on meanwhile."""


class AlreadyYours(ClaimConflict):
    """The partner asked again for a lead it already holds: a retried claim, a double click.

    ``held`` is the partner's hand-over, so a caller can answer with it as if the
    claim had just succeeded (the first attempt did).
    """

    def __init__(self, message: str, held: Any) -> None:
        super().__init__(message)
        self.held = held


class LimitReached(ClaimConflict):
    """The partner is at its open-lead cap or its claims-per-day cap."""


class OfferExpired(DomainError):
    """The acceptance window of the offer has passed (whether or not the sweeper ran)."""


class NotAllowedNow(DomainError):
    """The action does not fit the hand-over's state (e.g. an outcome on a returned lead)."""


class LinkRefused(DomainError):
    """An e-mail action link that is forged (``invalid``), ``used`` or ``expired``."""

    def __init__(self, message: str, kind: str = "invalid"):
        super().__init__(message)
        self.kind = kind


class TransitionRefused(DomainError):
    """A lead move the lifecycle table does not allow (from that state, or by that actor)."""


class ActionRefused(DomainError):
    """A vendor's action on a lead that its state (or the other side) no longer allows."""
