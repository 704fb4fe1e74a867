"""Who causes a change: one ``Actor`` for people, partner systems, lead sources and jobs.

The lifecycle table says which kind of actor may cause which lead move, so every
actor carries its ``kind`` beside the label written on the timeline.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from distribution.models import Role, User


class ActorKind(enum.StrEnum):
    SOURCE = "source"  # a lead source posting, mailing or importing leads
    SYSTEM = "system"  # routing, the sweeper, other jobs
    VENDOR = "vendor"  # the vendor's people
    PARTNER = "partner"  # a partner's people or systems


@dataclass(frozen=True)
class Actor:
    """Who did something and through which door (portal, api, email, system).

    ``kind`` defaults to a partner because the actors built by hand are the
    partner's people answering a hand-over; jobs and vendors use their own.
    """

    label: str
    via: str = "system"
    user_id: int | None = None
    kind: ActorKind = ActorKind.PARTNER

    @classmethod
    def user(cls, user: User, via: str = "portal") -> Actor:
        """A signed-in person; a partner's user acts for the partner, anyone else for the vendor."""
        kind = ActorKind.PARTNER if user.role is Role.PARTNER_USER else ActorKind.VENDOR
        return cls(f"user:{user.id}", via, user.id, kind)

    @classmethod
    def api_key(cls, prefix: str) -> Actor:
        """A partner's system calling the partner API with its key."""
        return cls(f"api-key:{prefix}", "api", None, ActorKind.PARTNER)

    @classmethod
    def admin_key(cls, prefix: str) -> Actor:
        """The vendor's own tooling calling the management API with an admin key."""
        return cls(f"api-key:{prefix}", "api", None, ActorKind.VENDOR)

    @classmethod
    def system(cls, label: str) -> Actor:
        """A job of ours (routing, the sweeper) acting on its own."""
        return cls(label, "system", None, ActorKind.SYSTEM)


ROUTING = Actor.system("routing")
SWEEPER = Actor.system("sweeper")
EMAIL_LINK = Actor("email-link", "email", None, ActorKind.PARTNER)
