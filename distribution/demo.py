"""The demo tenant: Northwind Devices with partners, buyers, rules and ~300 leads.

``seed_demo()`` removes any earlier demo vendor and builds it again from a fixed
random seed, so running it twice gives the same rows (times are relative to
``clock.now()``). Vendors, partners, buyers, users and suppressions go through
the domain functions; leads, assignments, follow-ups and deliveries have no
domain functions yet, so ``_Story`` writes those rows directly, in one place,
and every transition goes through ``events.record``.
"""

from __future__ import annotations

import csv
import io
import json
import random
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import phonenumbers
from sqlalchemy import delete, func, select

from distribution import accounts, clock, directory, events, suppressions
from distribution.db import db
from distribution.models import (
    Assignment,
    AssignmentMode,
    AssignmentStatus,
    Buyer,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Destination,
    DestinationKind,
    FollowUp,
    FollowUpKind,
    Lead,
    LeadStatus,
    LedgerEntry,
    LedgerKind,
    Partner,
    PoolEligibility,
    Role,
    Rule,
    RuleAction,
    RuleSet,
    RuleSetStatus,
    Sale,
    SaleStatus,
    User,
    Vendor,
)

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
RECALL_GRACE = timedelta(hours=24)  # overdue leads are reminded, then recalled
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
# How each kind of partner behaves: P(accept), accept delay h, first follow-up delay h.
BEHAVIOUR = {
    "fast": (0.92, (0.2, 3.0), (0.5, 8.0)),
    "steady": (0.8, (2.0, 14.0), (6.0, 40.0)),
    "slow": (0.5, (10.0, 23.0), (30.0, 90.0)),
}
# Partners that get a demo login, with the mailbox of that login.
PARTNER_LOGINS = {
    "Pacific Coast Systems": "dana.reyes@pacificcoast.example.com",
    "Sierra Tech Partners": "sam.ortiz@sierratech.example.com",
    "Lone Star Distribution": "jo.walker@lonestar.example.com",
    "Thames Valley Digital": "olivia.hughes@thamesvalley.example.co.uk",
    "Rheinland Systemhaus": "lena.becker@rheinland.example.de",
}
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
LOST_REASONS = ["no_budget", "went_with_competitor", "no_response", "timing"]
DECLINE_REASONS = ["outside_territory", "capacity", "not_a_fit"]


@dataclass(frozen=True)
class Login:
    """A demo account: who to log in as to see a role's view."""

    role: str
    email: str
    password: str
    name: str
    of: str  # the vendor, partner or buyer it belongs to


@dataclass
class DemoResult:
    vendor: Vendor
    logins: list[Login]
    statuses: dict[str, int]
    replaced: bool


def seed_demo() -> DemoResult:
    """Build (or rebuild) the Northwind demo tenant and commit it."""
    now = clock.now()
    existing = directory.find_vendor(DEMO_SLUG)
    if existing is not None:
        remove_vendor(existing)
    rng = random.Random(SEED)
    vendor = directory.create_vendor(DEMO_SLUG, "Northwind Devices", timezone="America/Chicago")
    partners = {row[0]: _partner(vendor, row) for row in PARTNERS}
    buyers = _buyers(vendor)
    logins, users = _users(vendor, partners, buyers)
    rule_set = _rules(vendor, partners, users[Role.VENDOR_ADMIN], now)
    _Story(rng, vendor, partners, buyers, rule_set, users, now).build(LEAD_COUNT)
    db.session.commit()
    rows = db.session.execute(
        select(Lead.status, func.count()).where(Lead.vendor_id == vendor.id).group_by(Lead.status)
    )
    statuses = {str(status): n for status, n in rows}
    return DemoResult(vendor, logins, statuses, replaced=existing is not None)


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


def _buyers(vendor: Vendor) -> list[Buyer]:
    market = directory.create_buyer(
        vendor, "LeadMarket Direct", contact_email="ops@leadmarket.example.com",
        filters={"countries": ["US", "CA"], "grades": ["C", "D"]}, price_cents=3500,
        caps={"day": {"count": 25}}, priority=1, timezone="America/New_York",
    )  # fmt: skip
    apex = directory.create_buyer(
        vendor, "Apex Demand Co", contact_email="buying@apexdemand.example.com",
        filters={"grades": ["C", "D"]}, price_cents=1800, price_by_grade={"C": 2600, "D": 1500},
        caps={"day": {"count": 15, "spend_cents": 30000}}, timezone="Europe/London",
    )  # fmt: skip
    for buyer, url in ((market, "https://api.leadmarket.example.com/v2/leads"),
                       (apex, "https://post.apexdemand.example.com/inbound")):  # fmt: skip
        db.session.add(
            Destination(
                vendor_id=vendor.id, buyer_id=buyer.id, name=f"{buyer.name} API",
                kind=DestinationKind.HTTP_JSON, url=url, settings={"timeout": 10},
            )
        )  # fmt: skip
    db.session.flush()
    return [market, apex]


def _users(
    vendor: Vendor, partners: dict[str, Partner], buyers: list[Buyer]
) -> tuple[list[Login], dict[Any, User]]:
    """One login per role; the platform admin outlives a reset, so it is reused."""
    specs: list[tuple[Role, str, str, Partner | None, Buyer | None]] = [
        (Role.VENDOR_ADMIN, "ava.admin@northwind.example.com", "Ava Morgan", None, None),
        (Role.PARTNER_MANAGER, "max.manager@northwind.example.com", "Max Jensen", None, None),
    ]
    for name, email in PARTNER_LOGINS.items():
        person = email.split("@")[0].replace(".", " ").title()
        specs.append((Role.PARTNER_USER, email, person, partners[name], None))
    specs.append((Role.BUYER_USER, "kim.lee@leadmarket.example.com", "Kim Lee", None, buyers[0]))
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


def _rules(vendor: Vendor, partners: dict[str, Partner], admin: User, now: datetime) -> RuleSet:
    """The published rule set: data only until the routing engine reads it."""
    rule_set = RuleSet(
        vendor_id=vendor.id, version=1, status=RuleSetStatus.PUBLISHED, created_by_id=admin.id,
        note="Launch rules: enterprise to our platinum distributor, West Coast round robin.",
        created_at=now - timedelta(days=75), published_at=now - timedelta(days=74),
    )  # fmt: skip
    db.session.add(rule_set)
    db.session.flush()
    lone_star = partners["Lone Star Distribution"]
    specs: list[tuple[str, list[dict[str, Any]], RuleAction, dict[str, Any]]] = [
        ("Low grade goes to buyers", [{"field": "grade", "op": "in", "value": ["D"]}],
         RuleAction.SELL, {"strategy": "priority"}),
        ("Enterprise Suite (US) to Lone Star",
         [{"field": "product", "op": "eq", "value": "Enterprise Suite"},
          {"field": "country", "op": "eq", "value": "US"}],
         RuleAction.PUSH_PARTNER, {"partner_id": lone_star.id, "partner": lone_star.name}),
        ("US West: gold resellers, round robin",
         [{"field": "country", "op": "eq", "value": "US"},
          {"field": "state", "op": "in", "value": US_WEST}],
         RuleAction.PUSH_GROUP,
         {"group": {"kind": "reseller", "tier": "gold", "territory": True},
          "strategy": "round_robin"}),
        ("North America by territory",
         [{"field": "country", "op": "in", "value": ["US", "CA"]}],
         RuleAction.PUSH_GROUP, {"group": {"territory": True}, "strategy": "weighted"}),
        ("Europe to the pool", [{"field": "country", "op": "in", "value": EUROPE}],
         RuleAction.POOL, {"group": {"territory": True}, "pool_days": POOL_DAYS.days}),
        ("Everything else: hold for review", [], RuleAction.HOLD, {}),
    ]  # fmt: skip
    for position, (name, conditions, action, params) in enumerate(specs, start=1):
        push = action in (RuleAction.PUSH_PARTNER, RuleAction.PUSH_GROUP)
        db.session.add(
            Rule(
                vendor_id=vendor.id, rule_set_id=rule_set.id, position=position, name=name,
                enabled=True, conditions=conditions, action=action, action_params=params,
                acceptance_window_hours=int(WINDOW.total_seconds() // 3600) if push else None,
                followup_sla_hours=int(SLA.total_seconds() // 3600),
            )
        )  # fmt: skip
    db.session.flush()
    return rule_set


def _ascii(text: str) -> str:
    text = text.replace("ü", "ue").replace("ö", "oe").replace("ä", "ae").replace("ß", "ss")
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


@dataclass
class _Draft:
    """A lead's invented identity before it becomes a row."""

    fields: dict[str, Any]
    received_at: datetime
    outcome: str = "route"  # route | received | rejected | duplicate | suppressed
    extra: dict[str, Any] = field(default_factory=dict)


NSN_LENGTH = {"US": 10, "CA": 10, "GB": 10, "DE": 10, "FR": 9, "NL": 9, "ES": 9, "AU": 9}
FOLLOW_UP_NOTES = {
    FollowUpKind.CALL: ["Intro call, asked for a quote", "Left a voicemail", "Discovery call done"],
    FollowUpKind.EMAIL: ["Sent datasheet and pricing", "Sent case study", "Shared a draft quote"],
    FollowUpKind.MEETING: ["On-site demo booked", "Demo with their ops team", "Pilot scoping"],
    FollowUpKind.NOTE: ["Budget confirmed for next quarter", "Waiting on procurement"],
}
CLAIM_CHANCE = {
    "fast": (0.85, (1.0, 30.0)),
    "steady": (0.65, (6.0, 72.0)),
    "slow": (0.4, (24, 150)),
}


def _hours(value: float) -> timedelta:
    return timedelta(hours=value)


class _Story:
    """Invents leads and plays each one's life forward to ``now``, writing every row.

    Leads are played oldest first, and every random draw comes from one seeded
    generator in a fixed order, so the same seed always tells the same stories.
    """

    def __init__(
        self,
        rng: random.Random,
        vendor: Vendor,
        partners: dict[str, Partner],
        buyers: list[Buyer],
        rule_set: RuleSet,
        users: dict[Any, User],
        now: datetime,
    ):
        self.rng, self.vendor, self.buyers, self.users, self.now = rng, vendor, buyers, users, now
        self.partners = list(partners.values())
        self.by_name = partners
        self.behaviour = {row[0]: row[-1] for row in PARTNERS}
        self.rules = db.session.scalars(
            select(Rule).where(Rule.rule_set_id == rule_set.id).order_by(Rule.position)
        ).all()
        self.destinations = {
            d.buyer_id: d
            for d in db.session.scalars(
                select(Destination).where(Destination.vendor_id == vendor.id)
            )
        }
        self.round_robin = 0
        self.routed: list[Lead] = []  # earlier good leads, for duplicates
        self.excluded: set[int] = set()  # partners that handed the current lead back
        self.eligible: set[int] = set()  # partners with a pool row for the current lead

    # -- inventing leads -------------------------------------------------------

    def build(self, count: int) -> None:
        drafts = [self._draft(i) for i in range(count)]
        for draft in sorted(drafts, key=lambda d: d.received_at):
            self._play(draft)
            db.session.flush()
        self._showcase(self.by_name[SHOWCASE_PARTNER])

    def _showcase(self, partner: Partner) -> None:
        """Work waiting for the partner whose login is printed first, whatever the story
        above dealt it: two fresh offers to accept or decline, two leads in its pool."""
        west, america = self.rules[2], self.rules[3]
        home = [g for g in GEO if g[0] == "US" and f"US-{g[1]}" in partner.states]
        for minutes, pooled in SHOWCASE:
            draft = self._draft(LEAD_COUNT)
            country, state, city, postal, prefix, _ = self.rng.choice(home)
            draft.fields.update(country=country, state=state, city=city, postal_code=postal,
                                phone=self._phone(prefix, country))  # fmt: skip
            at = self.now - timedelta(minutes=minutes)
            lead = Lead(vendor_id=self.vendor.id, status=LeadStatus.RECEIVED, received_at=at,
                        **draft.fields)  # fmt: skip
            lead.raw_payload, lead.raw_content_type = _raw(draft.fields, draft.fields["channel"])
            lead.consent_at, lead.updated_at, lead.errors = at, at, []
            db.session.add(lead)
            db.session.flush()
            self._move(lead, at, "received", LeadStatus.RECEIVED,
                       data={"channel": lead.channel, "source": lead.source},
                       actor=lead.channel)  # fmt: skip
            routed_at = at + timedelta(seconds=2)
            if not pooled:
                self._trace(lead, routed_at, west, [partner])
                self._offer_open(lead, routed_at, west, partner)
                continue
            others = [p for p in self.partners if _covers(p, lead, products=False)]
            self._trace(lead, routed_at, america, others)
            self.excluded, self.eligible = set(), set()
            lead.pooled_until = routed_at + POOL_DAYS
            for holder in {p.id: p for p in [partner, *others]}.values():
                db.session.add(
                    PoolEligibility(
                        vendor_id=self.vendor.id,
                        lead_id=lead.id,
                        partner_id=holder.id,
                        created_at=routed_at,
                    )
                )
            self._move(lead, routed_at, "pooled", LeadStatus.POOLED,
                       reason=f"rule {america.position} '{america.name}'",
                       data={"pooled_until": lead.pooled_until.isoformat()})  # fmt: skip
        db.session.flush()

    def _offer_open(self, lead: Lead, at: datetime, rule: Rule, partner: Partner) -> None:
        offer = Assignment(
            vendor_id=self.vendor.id, lead_id=lead.id, partner_id=partner.id, rule_id=rule.id,
            mode=AssignmentMode.PUSH, status=AssignmentStatus.OFFERED, offered_at=at,
            expires_at=at + WINDOW,
        )  # fmt: skip
        db.session.add(offer)
        db.session.flush()
        data = {"partner": partner.name, "expires_at": offer.expires_at.isoformat()}
        self._move(lead, at, "offered", LeadStatus.OFFERED, assignment=offer, data=data)

    def _draft(self, index: int) -> _Draft:
        rng = self.rng
        country, state, city, postal, prefix, _ = rng.choices(
            GEO, weights=[int(g[5]) for g in GEO]
        )[0]
        lang = "de" if country == "DE" else "en" if country in ("US", "CA", "GB", "AU") else "eu"
        first, last = rng.choice(FIRST[lang]), rng.choice(LAST[lang])
        word_a, word_b = rng.choice(_words(COMPANY_A)), rng.choice(_words(COMPANY_B))
        domain = f"{_ascii(word_a + word_b)}.example.{rng.choice(['com', 'com', 'org', 'net'])}"
        title, title_points = rng.choice(TITLES)
        source, campaign, channel, source_points = rng.choice(SOURCES)
        product = rng.choices(PRODUCTS, weights=[5, 4, 3, 3, 2])[0]
        breakdown = [
            {"rule": f"title is {title}", "points": title_points},
            {"rule": f"source is {source}", "points": source_points},
            {"rule": f"product is {product}", "points": 20 if product == PRODUCTS[-1] else 10},
            {"rule": "company fit", "points": rng.randint(8, 40)},
        ]
        score = min(100, sum(item["points"] for item in breakdown))
        grade = "A" if score >= 80 else "B" if score >= 60 else "C" if score >= 40 else "D"
        street = rng.choice(["Market", "Mission", "Harbor", "Park", "Station", "Mill", "Lake"])
        number = rng.randint(1, 2400)
        fields: dict[str, Any] = {
            "first_name": first, "last_name": last, "company": f"{word_a} {word_b} "
            + LEGAL.get(country, "S.A."), "email": f"{_ascii(first)}.{_ascii(last)}@{domain}",
            "phone": self._phone(prefix, country), "title": title, "city": city,
            "street": f"{street}straße {number}" if country == "DE" else f"{number} {street} St",
            "state": state, "postal_code": postal, "country": country, "product": product,
            "source": source, "campaign": campaign, "channel": channel, "score": score,
            "grade": grade, "score_breakdown": breakdown, "consent_email": True,
            "interest": f"{product} for {word_b.lower()}",
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

    # -- intake ----------------------------------------------------------------

    def _play(self, draft: _Draft) -> None:
        self.excluded, self.eligible = set(), set()
        t = draft.received_at
        fields = dict(draft.fields)
        if draft.outcome == "duplicate" and self.routed:
            original = self.rng.choice(self.routed)
            for key in ("first_name", "last_name", "email", "phone", "company", "title"):
                fields[key] = getattr(original, key)
        else:
            original = None
        errors = self._spoil(fields) if draft.outcome == "rejected" else []
        if draft.outcome == "suppressed":
            entry = self._suppression(fields)
        lead = Lead(vendor_id=self.vendor.id, status=LeadStatus.RECEIVED, received_at=t, **fields)
        lead.raw_payload, lead.raw_content_type = _raw(draft.fields, fields["channel"])
        lead.consent_at, lead.updated_at, lead.errors = t, t, errors
        if lead.channel == "email":
            lead.message_id = f"<{uuid.UUID(int=self.rng.getrandbits(128)).hex}@mail.example.com>"
        db.session.add(lead)
        db.session.flush()
        data = {"channel": lead.channel, "source": lead.source}
        self._move(lead, t, "received", LeadStatus.RECEIVED, data=data, actor=lead.channel)
        checked = t + timedelta(milliseconds=self.rng.randint(40, 900))
        if errors:
            lead.status_reason = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
            self._move(lead, checked, "rejected", LeadStatus.REJECTED, reason=lead.status_reason)
        elif original is not None:
            lead.duplicate_of_id = original.id
            lead.status_reason = f"same email and phone as lead #{original.id}"
            self._move(lead, checked, "duplicate", LeadStatus.DUPLICATE,
                       reason=lead.status_reason, data={"duplicate_of": original.id})  # fmt: skip
        elif draft.outcome == "suppressed":
            lead.suppression_id = entry.id
            lead.status_reason = f"{entry.kind.value} {entry.value} is suppressed ({entry.reason})"
            self._move(lead, checked, "suppressed", LeadStatus.SUPPRESSED,
                       reason=lead.status_reason, data={"suppression_id": entry.id})  # fmt: skip
        elif draft.outcome != "received":
            self.routed.append(lead)
            self._route(lead, checked)

    def _spoil(self, fields: dict[str, Any]) -> list[dict[str, str]]:
        """Make this submission fail validation the way real ones do."""
        kind = self.rng.choice(["email", "country", "contact"])
        if kind == "email":
            fields["email"] = fields["email"].replace("@", " at ")
            return [{"field": "email", "message": "is not a valid email address"}]
        if kind == "country":
            fields["country"], fields["state"] = None, None
            return [{"field": "country", "message": "is required"}]
        fields["email"], fields["phone"] = None, None
        return [{"field": "email|phone", "message": "an email address or a phone is required"}]

    def _suppression(self, fields: dict[str, Any]) -> Any:
        if self.rng.random() < 0.5:
            entry, _ = suppressions.add(self.vendor, "email", fields["email"], "do_not_contact",
                                        "Asked to be removed")  # fmt: skip
            return entry
        fields["company"] = "Southwind Devices Inc."
        fields["email"] = f"{_ascii(fields['first_name'])}@southwind-devices.example.com"
        entry, _ = suppressions.add(self.vendor, "domain", "southwind-devices.example.com",
                                    "competitor", "A competitor fishing for pricing")  # fmt: skip
        return entry

    # -- routing ---------------------------------------------------------------

    def _route(self, lead: Lead, at: datetime) -> None:
        rule, candidates = self._match(lead)
        reason = self._trace(lead, at, rule, candidates)
        self._route_on(lead, at, rule, candidates, reason)

    def _trace(self, lead: Lead, at: datetime, rule: Rule, candidates: list[Partner]) -> str:
        """Record how ``rule`` routed ``lead`` (the trace and the "routed" event)."""
        lead.rule_set_version, lead.route_attempts = 1, 1
        reason = f"rule {rule.position} '{rule.name}'"
        # The shape routing.decide writes, so the lead page reads demo leads alike.
        lead.routing_trace = {
            "rule_set_version": 1, "at": at.isoformat(timespec="seconds"), "reason": reason,
            "tried": [{"position": rule.position, "name": rule.name, "matched": True}],
            "rule": {"id": rule.id, "position": rule.position, "name": rule.name,
                     "action": rule.action.value},
            "candidates": [{"partner_id": p.id, "name": p.name} for p in candidates],
        }  # fmt: skip
        self._move(lead, at, "routed", LeadStatus.ROUTED, reason=reason,
                   data={"rule_id": rule.id, "action": rule.action.value})  # fmt: skip
        return reason

    def _route_on(self, lead: Lead, at: datetime, rule: Rule, candidates: list[Partner],
                  reason: str) -> None:  # fmt: skip
        if rule.action is RuleAction.SELL:
            return self._sell(lead, at)
        if rule.action is RuleAction.HOLD:
            where = lead.country
            return self._unassign(lead, at, f"held by {reason}: no partner network in {where} yet")
        if rule.action is RuleAction.POOL:
            return self._pool(lead, at, rule, reason)
        if not candidates:
            where = f"{lead.country}-{lead.state}"
            return self._unassign(lead, at, f"{reason}: no active partner covers {where} for "
                                  f"{lead.product}")  # fmt: skip
        if rule.action_params.get("strategy") == "round_robin":
            partner = candidates[self.round_robin % len(candidates)]
            self.round_robin += 1
        else:
            partner = self.rng.choice(candidates)
        self._offer(lead, at, rule, partner)

    def _match(self, lead: Lead) -> tuple[Rule, list[Partner]]:
        low, enterprise, west, america, europe, rest = self.rules
        if lead.grade == "D":
            return low, []
        if lead.product == "Enterprise Suite" and lead.country == "US":
            return enterprise, [self.by_name["Lone Star Distribution"]]
        if lead.country == "US" and lead.state in US_WEST:
            gold = [p for p in self.partners if p.kind.value == "reseller" and p.tier == "gold"]
            return west, [p for p in gold if _covers(p, lead)]
        if lead.country in ("US", "CA"):
            return america, [p for p in self.partners if _covers(p, lead)]
        if lead.country in EUROPE:
            return europe, []
        return rest, []

    def _sell(self, lead: Lead, at: datetime) -> None:
        market, apex = self.buyers
        buyer = market if lead.country in ("US", "CA") else apex
        if self.rng.random() < 0.15:
            return self._unassign(lead, at, f"no buyer took it: {buyer.name} reached its daily cap")
        price = buyer.price_by_grade.get(lead.grade or "", buyer.price_cents)
        sent = at + timedelta(seconds=self.rng.uniform(2, 40))
        remote = f"{buyer.name[:2].upper()}-{self.rng.randint(100000, 999999)}"
        destination = self.destinations[buyer.id]
        delivery = Delivery(
            webhook_id=f"msg_{uuid.UUID(int=self.rng.getrandbits(128)).hex}",
            vendor_id=self.vendor.id, lead_id=lead.id, destination_id=destination.id,
            buyer_id=buyer.id, purpose="sale", status=DeliveryStatus.DELIVERED, attempts=1,
            remote_id=remote, price_cents=price, created_at=at, delivered_at=sent,
        )  # fmt: skip
        db.session.add(delivery)
        db.session.flush()
        took = self.rng.randint(120, 900)
        db.session.add(
            DeliveryAttempt(
                delivery_id=delivery.id, number=1, started_at=sent - timedelta(milliseconds=took),
                duration_ms=took, request_summary=f"POST {destination.url} (application/json)",
                response_status=200, outcome="delivered",
                response_body=json.dumps({"status": "accepted", "id": remote}),
            )
        )  # fmt: skip
        sale = Sale(vendor_id=self.vendor.id, lead_id=lead.id, buyer_id=buyer.id,
                    delivery_id=delivery.id, price_cents=price, exclusive=buyer.exclusive,
                    status=SaleStatus.SOLD, sold_at=sent)  # fmt: skip
        db.session.add(sale)
        db.session.flush()
        db.session.add(LedgerEntry(vendor_id=self.vendor.id, buyer_id=buyer.id, sale_id=sale.id,
                                   kind=LedgerKind.SALE, amount_cents=price, at=sent))  # fmt: skip
        data = {"buyer": buyer.name, "price_cents": price, "delivery_id": delivery.id}
        self._move(lead, sent, "sold", LeadStatus.SOLD, data=data)

    def _unassign(self, lead: Lead, at: datetime, reason: str) -> None:
        lead.status_reason = reason
        self._move(lead, at, "unassigned", LeadStatus.UNASSIGNED, reason=reason)

    # -- push offers and the pool ---------------------------------------------

    def _offer(self, lead: Lead, at: datetime, rule: Rule, partner: Partner) -> None:
        rng = self.rng
        offered_at = at + timedelta(minutes=rng.uniform(0.5, 3))
        offer = Assignment(
            vendor_id=self.vendor.id, lead_id=lead.id, partner_id=partner.id, rule_id=rule.id,
            mode=AssignmentMode.PUSH, status=AssignmentStatus.OFFERED, offered_at=offered_at,
            expires_at=offered_at + WINDOW,
        )  # fmt: skip
        db.session.add(offer)
        db.session.flush()
        expires = offer.expires_at.isoformat()
        self._move(lead, offered_at, "offered", LeadStatus.OFFERED, assignment=offer,
                   data={"partner": partner.name, "expires_at": expires})  # fmt: skip
        accept_chance, accept_hours, _ = BEHAVIOUR[self.behaviour[partner.name]]
        draw, declines = rng.random(), rng.random() < 0.35
        answered = offered_at + _hours(rng.uniform(*accept_hours))
        if draw <= accept_chance:
            if answered <= self.now:
                self._accept(lead, offer, answered, partner)
            return
        if declines:
            if answered > self.now:
                return
            offer.status, offer.closed_at = AssignmentStatus.DECLINED, answered
            offer.decline_reason = rng.choice(DECLINE_REASONS)
            self._move(lead, answered, "declined", LeadStatus.ROUTED, assignment=offer,
                       reason=offer.decline_reason, partner=partner)  # fmt: skip
            return self._hand_back(lead, answered, partner)
        assert offer.expires_at is not None
        if offer.expires_at > self.now:
            return
        offer.status, offer.closed_at = AssignmentStatus.EXPIRED, offer.expires_at
        self._move(lead, offer.expires_at, "expired", LeadStatus.ROUTED, assignment=offer,
                   reason="not accepted within the 24 h acceptance window")  # fmt: skip
        self._hand_back(lead, offer.expires_at, partner)

    def _hand_back(self, lead: Lead, at: datetime, partner: Partner) -> None:
        """A declined, expired or recalled lead goes to the pool without that partner."""
        self.excluded.add(partner.id)
        lead.route_attempts += 1
        if lead.route_attempts > 3:
            return self._unassign(lead, at, "handed back three times: needs a decision")
        self._pool(lead, at, None, f"re-routed to the pool after {partner.name} handed it back")

    def _pool(self, lead: Lead, at: datetime, rule: Rule | None, reason: str) -> None:
        rng = self.rng
        eligible = [
            p
            for p in self.partners
            if _covers(p, lead, products=False) and p.id not in self.excluded
        ]
        if not eligible:
            return self._unassign(lead, at, f"{reason}, but no eligible partner is left")
        lead.pooled_until = at + POOL_DAYS
        for partner in (p for p in eligible if p.id not in self.eligible):
            self.eligible.add(partner.id)
            db.session.add(PoolEligibility(vendor_id=self.vendor.id, lead_id=lead.id,
                                           partner_id=partner.id, created_at=at))  # fmt: skip
        data = {
            "eligible": [p.name for p in eligible],
            "pooled_until": lead.pooled_until.isoformat(),
        }
        self._move(lead, at, "pooled", LeadStatus.POOLED, reason=reason, data=data)
        claims = []
        for partner in eligible:
            chance, hours = CLAIM_CHANCE[self.behaviour[partner.name]]
            if rng.random() < chance:
                claims.append((at + _hours(rng.uniform(*hours)), partner.name, partner))
        if claims and min(claims)[0] < lead.pooled_until:
            claimed_at, _, partner = min(claims)
            if claimed_at > self.now:
                return
            claim = Assignment(
                vendor_id=self.vendor.id, lead_id=lead.id, partner_id=partner.id,
                rule_id=rule.id if rule else None, mode=AssignmentMode.PULL,
                status=AssignmentStatus.ACCEPTED, offered_at=at, accepted_at=claimed_at,
                accepted_via="portal",
            )  # fmt: skip
            db.session.add(claim)
            db.session.flush()
            lead.pooled_until = None
            self._move(lead, claimed_at, "claimed", LeadStatus.ASSIGNED, assignment=claim,
                       partner=partner)  # fmt: skip
            return self._work(lead, claim, claimed_at, partner)
        if lead.pooled_until > self.now:
            return
        ended, lead.pooled_until = lead.pooled_until, None
        lead.status_reason = f"nobody claimed it in {POOL_DAYS.days} days in the pool"
        self._move(lead, ended, "pool_expired", LeadStatus.UNASSIGNED, reason=lead.status_reason)

    def _accept(self, lead: Lead, offer: Assignment, at: datetime, partner: Partner) -> None:
        offer.status, offer.accepted_at = AssignmentStatus.ACCEPTED, at
        offer.accepted_via = self.rng.choice(["portal", "portal", "api", "email"])
        self._move(lead, at, "accepted", LeadStatus.ASSIGNED, assignment=offer, partner=partner)
        self._work(lead, offer, at, partner)

    # -- follow-up and outcome ----------------------------------------------

    def _work(self, lead: Lead, work: Assignment, accepted: datetime, partner: Partner) -> None:
        due = accepted + SLA
        work.followup_due_at = due
        first = accepted + _hours(self.rng.uniform(*BEHAVIOUR[self.behaviour[partner.name]][2]))
        if first <= due and first <= self.now:
            return self._follow_up(lead, work, first, partner)
        if due > self.now:
            return  # accepted; the first follow-up is not due yet
        if due + RECALL_GRACE > self.now:
            work.reminded_at = due  # overdue: reminded, not yet recalled
            self._note(lead, due, "followup_reminder", work, reason="first follow-up is overdue")
            return
        recalled = due + RECALL_GRACE
        work.status, work.closed_at = AssignmentStatus.RECALLED, recalled
        hours = int(SLA.total_seconds() // 3600)
        self._move(lead, recalled, "recalled", LeadStatus.ROUTED, assignment=work,
                   reason=f"no follow-up logged within {hours} h of acceptance")  # fmt: skip
        self._hand_back(lead, recalled, partner)

    def _follow_up(self, lead: Lead, work: Assignment, first: datetime, partner: Partner) -> None:
        rng = self.rng
        work.status, work.first_followup_at, work.stage = (
            AssignmentStatus.WORKING,
            first,
            "contacted",
        )
        user = self.users.get(partner.name)
        at, last = first, first
        for number in range(rng.randint(1, 4)):
            if at > self.now:
                break
            kind = FollowUpKind.CALL if number == 0 else rng.choice(list(FollowUpKind))
            note = rng.choice(FOLLOW_UP_NOTES[kind])
            db.session.add(FollowUp(vendor_id=self.vendor.id, assignment_id=work.id,
                                    partner_id=partner.id, user_id=user.id if user else None,
                                    kind=kind, note=note, at=at))  # fmt: skip
            self._note(lead, at, "follow_up", work, data={"kind": kind.value, "note": note},
                       partner=partner)  # fmt: skip
            work.stage = "contacted" if number == 0 else "qualified"
            at, last = at + _hours(rng.uniform(20, 120)), at
        closed = max(first + timedelta(days=rng.uniform(8, 30)), last + _hours(2))
        draw = rng.random()
        if closed > self.now or draw >= 0.6:
            return
        work.closed_at = closed
        if draw < 0.28:
            work.status, work.stage = AssignmentStatus.WON, "closed"
            work.won_amount_cents = rng.choice([4800, 12500, 36000, 98000, 240000]) * 100
            self._move(lead, closed, "won", LeadStatus.WON, assignment=work, partner=partner,
                       data={"amount_cents": work.won_amount_cents})  # fmt: skip
        elif draw < 0.52:
            work.status, work.lost_reason = AssignmentStatus.LOST, rng.choice(LOST_REASONS)
            self._move(lead, closed, "lost", LeadStatus.LOST, assignment=work, partner=partner,
                       reason=work.lost_reason)  # fmt: skip
        else:
            work.status, work.return_reason = AssignmentStatus.RETURNED, "not_ready_to_buy"
            self._move(lead, closed, "returned", LeadStatus.NURTURE, assignment=work,
                       partner=partner, reason="not ready to buy: back to nurture")  # fmt: skip

    # -- the timeline ----------------------------------------------------------

    def _actor(self, partner: Partner | None, actor: str | None) -> tuple[str, int | None]:
        if partner is None:
            return actor or "system", None
        user = self.users.get(partner.name)
        return (f"user:{user.id}", user.id) if user else (f"partner:{partner.id}", None)

    def _move(
        self,
        lead: Lead,
        at: datetime,
        kind: str,
        to: LeadStatus,
        *,
        reason: str | None = None,
        assignment: Assignment | None = None,
        data: dict[str, Any] | None = None,
        partner: Partner | None = None,
        actor: str | None = None,
    ) -> None:
        """One status change of ``lead`` at ``at``, with its event."""
        who, user_id = self._actor(partner, actor)
        start = None if kind == "received" else lead.status.value
        with clock.frozen_at(at):
            events.record(lead, kind, from_status=start, to_status=to.value, actor=who,
                          actor_user_id=user_id, reason=reason, assignment=assignment,
                          data=data)  # fmt: skip
        lead.status, lead.updated_at = to, at

    def _note(
        self,
        lead: Lead,
        at: datetime,
        kind: str,
        assignment: Assignment,
        *,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
        partner: Partner | None = None,
    ) -> None:
        """An event that does not change the lead's status (a follow-up, a reminder)."""
        who, user_id = self._actor(partner, None)
        with clock.frozen_at(at):
            events.record(lead, kind, actor=who, actor_user_id=user_id, reason=reason,
                          assignment=assignment, data=data)  # fmt: skip


def _covers(partner: Partner, lead: Lead, *, products: bool = True) -> bool:
    """Whether ``lead`` falls in ``partner``'s territory (and product line)."""
    if lead.country not in partner.countries:
        return False
    if partner.states and f"{lead.country}-{lead.state}" not in partner.states:
        return False
    return not (products and partner.products and lead.product not in partner.products)


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
