"""Domain errors: values the caller can show a person or a machine and act on."""

from __future__ import annotations

from dataclasses import dataclass, field


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


@dataclass
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


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
