"""What the routing decision and buyer matching read of a lead, as a Protocol.

They decide for stored leads and for leads only tried: the vendor's "try a lead"
box builds a ``Lead`` that is never saved, so it has no id and no arrival time.
``LeadShape`` names the attributes they read, read-only, so a stored ``Lead``, an
unsaved one or any object with these attributes fits, and nothing more is assumed.
Rule conditions may also read any other canonical field by name; they do that with
``getattr`` and a default, as a field a lead lacks reads as empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol


class LeadShape(Protocol):
    """A lead, stored or not, as routing and buyer matching see it."""

    @property
    def id(self) -> int | None: ...  # None until the lead is stored

    @property
    def country(self) -> str | None: ...  # ISO 3166-1 alpha-2

    @property
    def state(self) -> str | None: ...  # the subdivision part of ISO 3166-2

    @property
    def postal_code(self) -> str | None: ...

    @property
    def product(self) -> str | None: ...

    @property
    def score(self) -> int | None: ...

    @property
    def grade(self) -> str | None: ...

    @property
    def extras(self) -> Mapping[str, Any] | None: ...

    @property
    def received_at(self) -> datetime | None: ...  # None until the lead is stored
