"""The demo tenant: Northwind Devices with partners, buyers, rules and ~300 leads.

``seed_demo()`` removes any earlier demo vendor and builds it again from a fixed
random seed, so running it twice gives the same rows (times are relative to
``clock.now()``). A start of the portal seeds it only into an empty database
(``is_empty``: no vendor at all), so what a person set up while trying the
product survives a restart; ``kept_logins`` lists the demo logins still there.
Everything goes through the domain functions people and senders use: the
directory, accounts, destinations, intake settings and rules here, and the
leads' lives in ``demo_story`` (intake, routing, offers, the pool, follow-up,
outcomes and the sweeper's expiries), so the demo cannot drift from what the
product does.
"""

from __future__ import annotations

import csv
import io
import json
import random
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import phonenumbers
from sqlalchemy import delete, func, select

from distribution import accounts, clock, demo_showcase, destinations, directory, suppressions
from distribution.db import db
from distribution.demo_story import Story, buyer_desk, commit_step
from distribution.handover import pool
from distribution.intake import settings as intake_settings
from distribution.intake.pipeline import DEFAULT_REQUIRED, Origin
from distribution.intake.scoring import DEFAULT_BANDS
from distribution.models import (
    Buyer,
    DestinationKind,
    Lead,
    LeadStatus,
    Partner,
    Role,
    User,
    Vendor,
)
from distribution.reports import period, quotas
from distribution.routing import rules
from distribution.tenancy import Scope

SEED = 20261123
LEAD_COUNT = 300
DEMO_SLUG = "northwind"
DEMO_PASSWORD = "northwind-demo"  # noqa: S105  (published demo logins)
PLATFORM_ADMIN_EMAIL = "admin@leadrelay.example.com"
WINDOW = timedelta(hours=24)  # acceptance window of the push rules
# The partner whose login is printed first gets fresh offers and pool leads to try.
SHOWCASE_PARTNER = "Pacific Coast Systems"
# (minutes ago, pooled?) of its fresh leads: two offers, two pool leads.
SHOWCASE = ((9, False), (38, False), (55, True), (140, True))
SLA = timedelta(hours=48)  # first follow-up due after acceptance
POOL_DAYS = timedelta(days=7)

PRODUCTS = ["Edge Gateway", "Sensor Kit", "Rugged Tablet", "Cloud Console", "Enterprise Suite"]
US_WEST = ["CA", "OR", "WA", "NV", "AZ", "ID"]
EUROPE = ["GB", "DE", "FR", "NL", "ES", "IT", "AT", "BE"]

# name | kind | tier | region | countries | states | open cap | daily cap | behaviour
PARTNER_TABLE = """
Pacific Coast Systems | reseller | gold | US West | US | US-CA US-OR US-WA | 40 | 10 | fast
Sierra Tech Partners | reseller | gold | US West | US | US-CA US-NV US-AZ | 30 | 8 | slow
Cascade Integrators | reseller | silver | US West | US | US-WA US-OR US-ID | 20 | 5 | slow
Lone Star Distribution | distributor | platinum | Texas | US | US-TX US-OK US-LA | 80 | 25 | steady
Great Lakes Supply | distributor | gold | US Midwest | US | US-IL US-MI US-OH | 50 | 15 | steady
Empire State Solutions | reseller | gold | US East | US | US-NY US-NJ US-PA | 30 | 10 | fast
Peachtree Networks | reseller | registered | US South | US | US-GA US-FL US-NC | 15 | 5 | slow
Atlantic Lead Exchange | broker | registered | US East | US | US-NY US-GA US-FL | | 20 | steady
Maple Leaf Technologies | reseller | silver | Canada | CA | | 25 | 8 | steady
Thames Valley Digital | reseller | gold | UK | GB | | 30 | 10 | fast
Rheinland Systemhaus | distributor | platinum | DACH | DE AT | | 60 | 20 | fast
EuroLead Brokers | broker | registered | Europe | EU | | | 30 | slow
"""
# Partners that sell only part of the range; everyone else sells all of it.
PRODUCT_LINES = {"Empire State Solutions": ["Edge Gateway", "Sensor Kit", "Cloud Console"]}


def _table(text: str) -> list[list[str]]:
    """Rows of a ``|``-separated table, cells stripped."""
    return [[cell.strip() for cell in line.split("|")] for line in text.strip().splitlines()]


def _words(text: str) -> list[str]:
    return text.split(",") if "," in text else text.split()


PARTNERS = _table(PARTNER_TABLE)
# Partners that get a demo login, with the mailbox of that login.
PARTNER_LOGINS = {
    "Pacific Coast Systems": "dana.reyes@pacificcoast.example.com",
    "Sierra Tech Partners": "sam.ortiz@sierratech.example.com",
    "Lone Star Distribution": "jo.walker@lonestar.example.com",
    "Thames Valley Digital": "olivia.hughes@thamesvalley.example.co.uk",
    "Rheinland Systemhaus": "lena.becker@rheinland.example.de",
}
VENDOR_LOGINS = ("ava.admin@northwind.example.com", "max.manager@northwind.example.com")
BUYER_LOGIN = "kim.lee@leadmarket.example.com"
# country | state | city | postal code | phone prefix (fictional ranges where they exist) | weight
GEO = _table("""
US | CA  | San Francisco | 94107    | +141555501 | 6
US | CA  | San Jose      | 95113    | +140855501 | 4
US | OR  | Portland      | 97204    | +150355501 | 3
US | WA  | Seattle       | 98101    | +120655501 | 4
US | AZ  | Phoenix       | 85004    | +160255501 | 2
US | TX  | Austin        | 78701    | +151255501 | 5
US | TX  | Dallas        | 75201    | +121455501 | 4
US | IL  | Chicago       | 60601    | +131255501 | 5
US | OH  | Columbus      | 43215    | +161455501 | 2
US | NY  | New York      | 10001    | +121255501 | 6
US | PA  | Philadelphia  | 19103    | +121555501 | 2
US | GA  | Atlanta       | 30303    | +140455501 | 3
US | FL  | Miami         | 33131    | +130555501 | 3
US | CO  | Denver        | 80202    | +130355501 | 3
CA | ON  | Toronto       | M5H 2N2  | +141655501 | 4
CA | BC  | Vancouver     | V6B 1A1  | +160455501 | 2
GB | ENG | London        | EC1A 1BB | +442079460 | 6
GB | SCT | Edinburgh     | EH1 1YZ  | +441314960 | 2
DE | BE  | Berlin        | 10115    | +4930      | 4
DE | BY  | Munich        | 80331    | +4989      | 4
FR | IDF | Paris         | 75002    | +331       | 3
NL | NH  | Amsterdam     | 1012 AB  | +3120      | 2
ES | MD  | Madrid        | 28013    | +3491      | 2
AU | NSW | Sydney        | 2000     | +612       | 2
""")
FIRST = {
    "en": _words("James Mary Olivia Liam Noah Emma Ava Sophia Ethan Harper Lucas Amelia Daniel")
    + _words("Grace Priya Wei Carlos Aisha Mateo Chloe"),
    "de": _words("Lukas Anna Felix Lena Jonas Marie Paul Sophie Leon Emilia"),
    "eu": _words("Camille Louis Sanne Daan Lucia Javier Giulia Marco Ines Hugo"),
}
LAST = {
    "en": _words("Smith Johnson Garcia Chen Patel Nguyen Williams Brown Miller Davis Martinez")
    + _words("Wilson Taylor Anderson Kim O'Brien Lopez Clark Walker Young"),
    "de": _words("Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Hoffmann Koch"),
    "eu": _words("Martin,Bernard,de Jong,Visser,García,Fernández,Rossi,Bianchi,Dubois,Jansen"),
}
COMPANY_A = "Harbor Summit Granite Bluewater Redwood Ironbridge Northstar Keystone Silverline "
COMPANY_A += "Brightpath Evergreen Pinecrest Copperfield Lakeshore Stonegate"
COMPANY_B = "Logistics Manufacturing Health Foods Energy Robotics Freight Utilities Retail Labs"
LEGAL = {"US": "Inc.", "CA": "Ltd.", "GB": "Ltd", "DE": "GmbH", "FR": "SAS", "NL": "B.V."}
LEGAL |= {"ES": "S.L.", "AU": "Pty Ltd"}
TITLES = [
    ("CTO", 25), ("VP Engineering", 22), ("IT Director", 18), ("Head of IoT", 18),
    ("Operations Manager", 10), ("Plant Manager", 10), ("Procurement Lead", 8),
    ("Facilities Coordinator", 3), ("Student", 0),
]  # fmt: skip
SOURCES = [
    ("web-form", "edge-gateway-launch", "form", 10),
    ("webinar", "iot-at-the-edge-webinar", "api", 15),
    ("trade-show", "hannover-messe-2026", "csv", 12),
    ("paid-search", "edge-gateway-launch", "form", 5),
    ("partner-referral", None, "email", 20),
    ("content-syndication", "enterprise-abm-q3", "api", 0),
]
# How Northwind scores its leads (intake's scoring rules, as the vendor would set them).
SCORE_RULES: list[dict[str, Any]] = [
    {"field": "title", "op": "in", "value": ["CTO", "VP Engineering", "IT Director", "Head of IoT"],
     "points": 25, "label": "decision-maker title"},
    {"field": "title", "op": "in", "value": ["Operations Manager", "Plant Manager",
     "Procurement Lead"], "points": 10, "label": "operations title"},
    {"field": "source", "op": "eq", "value": "partner-referral", "points": 20,
     "label": "partner referral"},
    {"field": "source", "op": "in", "value": ["webinar", "trade-show"], "points": 12,
     "label": "met us"},
    {"field": "source", "op": "in", "value": ["web-form", "paid-search"], "points": 6,
     "label": "asked online"},
    {"field": "product", "op": "present", "points": 15, "label": "names a product"},
    {"field": "phone", "op": "present", "points": 10, "label": "has phone"},
    {"field": "product", "op": "eq", "value": "Enterprise Suite", "points": 10,
     "label": "enterprise interest"},
    {"field": "extras.employees", "op": "gte", "value": 200, "points": 15, "label": "mid-size"},
    {"field": "extras.employees", "op": "gte", "value": 1000, "points": 15, "label": "large"},
]  # fmt: skip


@dataclass(frozen=True)
class Login:
    """A demo account: who to log in as to see a role's view."""

    role: str
    email: str
    password: str
    name: str
    of: str  # the vendor, partner or buyer it belongs to


@dataclass(frozen=True)
class Wiped:
    """What a rebuild removed: the earlier demo vendor and the rows it owned."""

    partners: int
    users: int
    leads: int

    def __str__(self) -> str:
        return f"{self.partners} partners, {self.users} users and {self.leads} leads"


@dataclass
class DemoResult:
    vendor: Vendor
    logins: list[Login]
    statuses: dict[str, int]
    wiped: Wiped | None  # None when there was no earlier demo vendor

    @property
    def replaced(self) -> bool:
        return self.wiped is not None


def is_empty() -> bool:
    """Whether the database holds no vendor at all: the only state a start seeds the demo into.

    A platform admin alone does not count: it has nothing a person set up to lose.
    """
    return db.session.scalar(select(func.count()).select_from(Vendor)) == 0


def kept_logins() -> list[Login]:
    """The demo's logins still in the database, in the order a seed prints them."""
    emails = [PLATFORM_ADMIN_EMAIL, *VENDOR_LOGINS, *PARTNER_LOGINS.values(), BUYER_LOGIN]
    found = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))}
    logins = []
    for email in emails:
        user = found.get(email)
        if user is None:
            continue
        owner = user.partner or user.buyer or user.vendor
        of = owner.name if owner is not None else "all vendors"
        logins.append(Login(user.role.value, email, DEMO_PASSWORD, user.name, of))
    return logins


def seed_demo(buyer_url: str | None = None) -> DemoResult:
    """Build (or rebuild) the Northwind demo tenant and commit it.

    The demo's buyers post to ``buyer_url`` (a sandbox that takes the leads) and
    keep it in their destinations; without one, a stand-in on this machine takes
    the story's posts, and the destinations keep its address, to be edited.
    """
    now = clock.now()
    existing = directory.find_vendor(DEMO_SLUG)
    wiped = None
    if existing is not None:
        wiped = _owned(existing)
        remove_vendor(existing)
        db.session.commit()
    rng = random.Random(SEED)
    with buyer_desk(buyer_url) as desk:
        with clock.frozen_at(now - timedelta(days=75)):
            vendor = directory.create_vendor(
                DEMO_SLUG, "Northwind Devices", timezone="America/Chicago"
            )
            partners = {row[0]: _partner(vendor, row) for row in PARTNERS}
            buyers = _buyers(vendor, desk)
            logins, users = _users(vendor, partners, buyers)
            _intake(vendor)
            _rules(vendor, partners, users[Role.VENDOR_ADMIN])
            commit_step()
        behaviour = {row[0]: row[-1] for row in PARTNERS}
        story = Story(rng, vendor, partners, users, behaviour, now)
        leads = _Leads(rng, vendor, story, now)
        leads.queue(LEAD_COUNT)
        story.play()
        leads.showcase(partners[SHOWCASE_PARTNER])
        _quotas(vendor, partners, users[Role.PARTNER_MANAGER], now)
        demo_showcase.deal_registrations(vendor, partners, users)
        demo_showcase.held_for_review(vendor)
    db.session.commit()
    rows = db.session.execute(
        select(Lead.status, func.count()).where(Lead.vendor_id == vendor.id).group_by(Lead.status)
    )
    statuses = {str(status): n for status, n in rows}
    return DemoResult(vendor, logins, statuses, wiped)


# Quotas agreed for the current month (per partner) and quarter (everyone in the US):
# (partner or "", period preset, region, qualified leads, leads they will work).
QUOTAS = (
    (SHOWCASE_PARTNER, "this_month", "US-CA", 60, 45),
    ("Sierra Tech Partners", "this_month", "US", 30, 30),
    ("", "this_quarter", "US", 300, 200),
)


def _quotas(vendor: Vendor, partners: dict[str, Partner], manager: User, now: datetime) -> None:
    scope = Scope.for_vendor(vendor.id)
    for name, preset, region, leads, capacity in QUOTAS:
        days = period.preset(preset, vendor.timezone, now)
        partner = partners.get(name)
        quotas.save(scope, manager, {
            "first_day": days.first.isoformat(), "last_day": days.last.isoformat(),
            "region": region, "partner_id": str(partner.id) if partner else "",
            "leads": str(leads), "capacity": str(capacity),
        })  # fmt: skip


def _owned(vendor: Vendor) -> Wiped:
    def count(model: Any) -> int:
        stmt = select(func.count()).select_from(model).where(model.vendor_id == vendor.id)
        return db.session.scalar(stmt) or 0

    return Wiped(count(Partner), count(User), count(Lead))


def remove_vendor(vendor: Vendor) -> None:
    """Delete a vendor and every row that belongs to it, children before parents."""
    tables = db.metadata.sorted_tables
    owned = {t.name for t in tables if "vendor_id" in t.c}
    for table in reversed(tables):
        if "vendor_id" in table.c:
            db.session.execute(delete(table).where(table.c.vendor_id == vendor.id))
            continue
        for fk in table.foreign_keys:  # rows reached only through an owned parent
            parent = fk.column.table
            if parent.name in owned:
                ids = select(fk.column).where(parent.c.vendor_id == vendor.id)
                db.session.execute(delete(table).where(fk.parent.in_(ids)))
    db.session.execute(delete(Vendor).where(Vendor.id == vendor.id))
    db.session.flush()
    db.session.expire_all()


def _partner(vendor: Vendor, row: list[str]) -> Partner:
    name, kind, tier, region, countries, states, cap, daily, _ = row
    slug = "".join(c for c in name.lower() if c.isalnum())[:16]
    return directory.create_partner(
        vendor, name, kind, tier=tier, region=region,
        countries=EUROPE if countries == "EU" else countries.split(), states=states.split(),
        products=PRODUCT_LINES.get(name, []), open_lead_cap=int(cap) if cap else None,
        daily_cap=int(daily) if daily else None, contact_email=f"leads@{slug}.example.com",
    )  # fmt: skip


def _buyers(vendor: Vendor, desk: str) -> list[Buyer]:
    market = directory.create_buyer(
        vendor, "LeadMarket Direct", contact_email="ops@leadmarket.example.com",
        filters={"countries": ["US", "CA"], "grades": ["C", "D"]}, price_cents=3500,
        caps={"day": {"count": 25}}, priority=1, timezone="America/New_York",
    )  # fmt: skip
    apex = directory.create_buyer(
        vendor, "Apex Demand Co", contact_email="buying@apexdemand.example.com",
        filters={"grades": ["C", "D"]}, price_cents=1800, price_by_grade={"C": 2600, "D": 1500},
        caps={"day": {"count": 25, "spend_cents": 60000}}, timezone="Europe/London",
    )  # fmt: skip
    for buyer in (market, apex):
        destinations.save(
            vendor, name=f"{buyer.name} API", kind=DestinationKind.HTTP_JSON.value,
            settings={"url": _buyer_url(desk, buyer), "timeout": 10}, buyer=buyer,
        )  # fmt: skip
    return [market, apex]


def _buyer_url(base: str, buyer: Buyer) -> str:
    return f"{base}/buyers/{_ascii(buyer.name)}/leads"


def _intake(vendor: Vendor) -> None:
    """Northwind's intake settings: the defaults, with its own scoring rules."""
    intake_settings.update(
        vendor, required_fields=list(DEFAULT_REQUIRED), dedupe_window_days=30,
        default_region="US", batch_limit=100, field_aliases={}, score_rules=SCORE_RULES,
        grade_bands=dict(DEFAULT_BANDS), xml_layouts=[],
    )  # fmt: skip


def _users(
    vendor: Vendor, partners: dict[str, Partner], buyers: list[Buyer]
) -> tuple[list[Login], dict[Any, User]]:
    """One login per role; the platform admin outlives a reset, so it is reused."""
    specs: list[tuple[Role, str, str, Partner | None, Buyer | None]] = [
        (Role.VENDOR_ADMIN, VENDOR_LOGINS[0], "Ava Morgan", None, None),
        (Role.PARTNER_MANAGER, VENDOR_LOGINS[1], "Max Jensen", None, None),
    ]
    for name, email in PARTNER_LOGINS.items():
        person = email.split("@")[0].replace(".", " ").title()
        specs.append((Role.PARTNER_USER, email, person, partners[name], None))
    specs.append((Role.BUYER_USER, BUYER_LOGIN, "Kim Lee", None, buyers[0]))
    admin = accounts.find_user(PLATFORM_ADMIN_EMAIL)
    if admin is None:
        admin = accounts.create_user(
            email=PLATFORM_ADMIN_EMAIL, name="Pat Admin", role=Role.PLATFORM_ADMIN,
            password=DEMO_PASSWORD,
        )  # fmt: skip
    else:
        accounts.set_password(admin, DEMO_PASSWORD)
        accounts.unlock(admin.email)
        admin.active = True
    logins = [Login("platform_admin", admin.email, DEMO_PASSWORD, admin.name, "all vendors")]
    users: dict[Any, User] = {Role.PLATFORM_ADMIN: admin}
    for role, email, name, partner, buyer in specs:
        user = accounts.create_user(
            email=email, name=name, role=role, password=DEMO_PASSWORD, vendor=vendor,
            partner=partner, buyer=buyer,
        )  # fmt: skip
        owner = partner.name if partner else buyer.name if buyer else vendor.name
        logins.append(Login(role.value, email, DEMO_PASSWORD, name, owner))
        users[partner.name if partner else role] = user
    db.session.flush()
    return logins, users


def _rules(vendor: Vendor, partners: dict[str, Partner], admin: User) -> None:
    """The published rule set, drafted and published as the rules page does."""
    lone_star = partners["Lone Star Distribution"]
    west = {"field": "state", "op": "in", "value": US_WEST}
    us = {"field": "country", "op": "eq", "value": "US"}
    window, sla = int(WINDOW.total_seconds() // 3600), int(SLA.total_seconds() // 3600)
    push = {"acceptance_window_hours": window, "followup_sla_hours": sla}
    specs: list[dict[str, Any]] = [
        {"name": "Low grade goes to buyers", "action": "sell",
         "conditions": [{"field": "grade", "op": "in", "value": ["D"]}],
         "action_params": {"strategy": "priority"}},
        {"name": "Enterprise Suite (US) to Lone Star", "action": "push_partner",
         "conditions": [{"field": "product", "op": "eq", "value": "Enterprise Suite"}, us],
         "action_params": {"partner_id": lone_star.id, "partner": lone_star.name}} | push,
        {"name": "Cloud Console in the West to the pool", "action": "pool",
         "conditions": [{"field": "product", "op": "eq", "value": "Cloud Console"}, us, west],
         "action_params": {"group": {"territory": True}, "pool_days": POOL_DAYS.days},
         "followup_sla_hours": sla},
        {"name": "US West: gold resellers, round robin", "action": "push_group",
         "conditions": [us, west],
         "action_params": {"group": {"kind": "reseller", "tier": "gold", "territory": True},
                           "strategy": "round_robin"}} | push,
        {"name": "North America by territory", "action": "push_group",
         "conditions": [{"field": "country", "op": "in", "value": ["US", "CA"]}],
         "action_params": {"group": {"territory": True}, "strategy": "weighted"}} | push,
        {"name": "Europe to the pool", "action": "pool",
         "conditions": [{"field": "country", "op": "in", "value": EUROPE}],
         "action_params": {"group": {"territory": True}, "pool_days": POOL_DAYS.days},
         "followup_sla_hours": sla},
        {"name": "Everything else: hold for review", "action": "hold", "conditions": []},
    ]  # fmt: skip
    note = "Launch rules: enterprise to our platinum distributor, West Coast round robin."
    draft = rules.draft(vendor, specs, by=admin, note=note)
    with clock.frozen_at(clock.now() + timedelta(days=1)):
        rules.publish(draft)


def _ascii(text: str) -> str:
    text = text.replace("ü", "ue").replace("ö", "oe").replace("ä", "ae").replace("ß", "ss")
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


NSN_LENGTH = {"US": 10, "CA": 10, "GB": 10, "DE": 10, "FR": 9, "NL": 9, "ES": 9, "AU": 9}


@dataclass
class _Draft:
    """A lead as its sender will post it, and what the story makes of it."""

    fields: dict[str, Any]
    received_at: datetime
    outcome: str = "route"  # route | received | rejected | duplicate | suppressed | showcase


class _Leads:
    """Invents the demo's leads and queues each one's arrival at intake."""

    def __init__(self, rng: random.Random, vendor: Vendor, story: Story, now: datetime):
        self.rng, self.vendor, self.story, self.now = rng, vendor, story, now
        self.arrived: list[tuple[datetime, dict[str, Any]]] = []  # good leads, for duplicates

    def queue(self, count: int) -> None:
        drafts = [self._draft(i) for i in range(count)]
        for draft in sorted(drafts, key=lambda d: d.received_at):
            self.story.at(draft.received_at, self._arrive, draft)

    def showcase(self, partner: Partner) -> None:
        """Work waiting for the partner whose login is printed first: two fresh offers in
        its own states (Edge Gateway, which its round robin gets alone there) and two
        Cloud Console leads in its pool, counting any the story left there (the rest of
        the showcase's pool leads go to Europe's pool instead)."""
        home = [g for g in GEO if g[0] == "US" and f"US-{g[1]}" in partner.states]
        home = [g for g in home if g[1] != "CA"] or home  # California is shared with Sierra
        europe = [g for g in GEO if g[0] in EUROPE]
        pool_room = 2 - pool.pool_count(Scope.for_partner(self.vendor.id, partner.id))
        for minutes, pooled in SHOWCASE:
            draft = self._draft(LEAD_COUNT)
            mine = not pooled or pool_room > 0
            pool_room -= int(pooled and mine)
            country, state, city, postal, prefix, _ = self.rng.choice(home if mine else europe)
            draft.fields.update(
                country=country, state=state, city=city, postal_code=postal, title="CTO",
                phone=self._phone(prefix, country), employees=1200,
                product="Cloud Console" if pooled else "Edge Gateway",
            )  # fmt: skip
            draft.received_at = self.now - timedelta(minutes=minutes)
            draft.outcome = "showcase"
            self.story.at(draft.received_at, self._arrive, draft)
        self.story.play()

    def _arrive(self, draft: _Draft) -> None:
        fields = dict(draft.fields)
        channel = fields.pop("channel")
        recent = [f for at, f in self.arrived if clock.now() - at < timedelta(days=25)]
        if draft.outcome == "duplicate" and recent:
            original = self.rng.choice(recent)
            for key in ("first_name", "last_name", "email", "phone", "company", "title"):
                fields[key] = original[key]
        elif draft.outcome == "rejected":
            self._spoil(fields)
        elif draft.outcome == "suppressed":
            self._suppress(fields)
        payload, content_type = _raw(fields, channel)
        message_id = None
        if channel == "email":
            message_id = f"<{uuid.UUID(int=self.rng.getrandbits(128)).hex}@mail.example.com>"
        origin = Origin(channel=channel, content_type=content_type, message_id=message_id,
                        actor=channel)  # fmt: skip
        lead = self.story.arrive(
            fields, payload, origin, route_it=draft.outcome != "received",
            leave=draft.outcome == "showcase",
        )  # fmt: skip
        if lead.status is LeadStatus.RECEIVED:
            self.arrived.append((clock.now(), fields))

    def _draft(self, index: int) -> _Draft:
        rng = self.rng
        country, state, city, postal, prefix, _ = rng.choices(
            GEO, weights=[int(g[5]) for g in GEO]
        )[0]
        lang = "de" if country == "DE" else "en" if country in ("US", "CA", "GB", "AU") else "eu"
        first, last = rng.choice(FIRST[lang]), rng.choice(LAST[lang])
        word_a, word_b = rng.choice(_words(COMPANY_A)), rng.choice(_words(COMPANY_B))
        domain = f"{_ascii(word_a + word_b)}.example.{rng.choice(['com', 'com', 'org', 'net'])}"
        title, _points = rng.choice(TITLES)
        source, campaign, channel, _points = rng.choice(SOURCES)
        product = rng.choices(PRODUCTS, weights=[5, 4, 3, 3, 2])[0]
        street = rng.choice(["Market", "Mission", "Harbor", "Park", "Station", "Mill", "Lake"])
        number = rng.randint(1, 2400)
        fields: dict[str, Any] = {
            "first_name": first, "last_name": last, "company": f"{word_a} {word_b} "
            + LEGAL.get(country, "S.A."), "email": f"{_ascii(first)}.{_ascii(last)}@{domain}",
            "phone": self._phone(prefix, country), "title": title, "city": city,
            "street": f"{street}straße {number}" if country == "DE" else f"{number} {street} St",
            "state": state, "postal_code": postal, "country": country, "product": product,
            "source": source, "campaign": campaign, "channel": channel, "consent_email": True,
            "interest": f"{product} for {word_b.lower()}",
            "employees": rng.choice([12, 40, 85, 150, 320, 600, 1500, 4000]),
        }  # fmt: skip
        if index < 5:  # the newest few are still waiting for the router
            return _Draft(fields, self.now - timedelta(minutes=rng.uniform(1, 25)), "received")
        # Skewed to recent days, so that open offers and pool leads are there to see.
        received_at = self.now - timedelta(days=60) * rng.random() ** 1.7
        draw = rng.random()
        outcome = (
            "rejected" if draw < 0.035 else "duplicate" if draw < 0.075
            else "suppressed" if draw < 0.1 else "route"
        )  # fmt: skip
        return _Draft(fields, received_at, outcome)

    def _phone(self, prefix: str, country: str) -> str:
        code = str(phonenumbers.country_code_for_region(country))
        remaining = NSN_LENGTH[country] - (len(prefix) - 1 - len(code))
        for length in (remaining, remaining + 1, remaining - 1):
            for _ in range(30):
                digits = "".join(str(self.rng.randint(0, 9)) for _ in range(length))
                parsed = phonenumbers.parse(prefix + digits)
                if phonenumbers.is_valid_number(parsed):
                    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        raise ValueError(f"no valid phone number under {prefix}")

    def _spoil(self, fields: dict[str, Any]) -> None:
        """Make this submission fail validation the way real ones do."""
        kind = self.rng.choice(["email", "country", "contact"])
        if kind == "email":
            fields["email"] = fields["email"].replace("@", " at ")
            fields["phone"] = None
        elif kind == "country":
            fields["country"], fields["state"] = None, None
        else:
            fields["email"], fields["phone"] = None, None

    def _suppress(self, fields: dict[str, Any]) -> None:
        if self.rng.random() < 0.5:
            suppressions.add(self.vendor, "email", fields["email"], "do_not_contact",
                             "Asked to be removed")  # fmt: skip
            return
        fields["company"] = "Southwind Devices Inc."
        fields["email"] = f"{_ascii(fields['first_name'])}@southwind-devices.example.com"
        suppressions.add(self.vendor, "domain", "southwind-devices.example.com",
                         "competitor", "A competitor fishing for pricing")  # fmt: skip


def _raw(fields: dict[str, Any], channel: str) -> tuple[bytes, str]:
    """The submission as its sender would have sent it."""
    keys = ["first_name", "last_name", "email", "phone", "company", "title", "street", "city"]
    keys += ["state", "postal_code", "country", "product", "source", "campaign"]
    data = {k: str(fields[k]) for k in keys if fields.get(k) is not None}
    if channel == "form":  # Salesforce Web-to-Lead names
        data["zip"], data["lead_source"] = data.pop("postal_code", ""), data.pop("source", "")
        return urlencode(data).encode(), "application/x-www-form-urlencoded"
    if channel == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(data.keys())
        writer.writerow(data.values())
        return out.getvalue().encode(), "text/csv"
    if channel == "email":
        return "\n".join(f"{k}: {v}" for k, v in data.items()).encode(), "text/plain"
    return json.dumps(data).encode(), "application/json"
