"""Fraud and quality screening at intake: a fraud score 0-100 and the signals behind it.

``screen`` is pure: it reads a lead's normalized fields, what is known of the
person who sent it (``Sender``: ip, browser, the hosted form's timing and
honeypot) and how often the same ip, e-mail and phone came lately
(``Velocity``), and returns a ``Screening`` whose breakdown lists each signal
with its points and a detail a vendor admin can read. Everything is offline:
crawler patterns, the disposable-domain list, phonenumbers' metadata and the
ZIP table ship with their packages. ``screen_rows`` does it for a batch of lead
rows, with the velocity counts that intake's one lookup (``matching.load_matches``)
brought back beside the duplicates and suppressions.

Input that cannot be read (a malformed ip, a user agent that is not text) never
stops a lead: its signal says it was unreadable and counts nothing.

The person's ip and user agent are the request's only on the hosted form; a
source posting by API is a server, so its leads carry the person's in the
payload if the source forwards them (``ip_address``, ``user_agent``, ...).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any

import phonenumbers

from distribution.intake import geo
from distribution.intake.appending import zip_entry
from distribution.mailboxes import is_disposable, is_free_mail
from distribution.models import LeadStatus

# Points per signal: the score is their sum, capped at 100.
POINTS: dict[str, int] = {
    "honeypot": 100,
    "bot_user_agent": 40,
    "disposable_email": 40,
    "phone_premium_rate": 40,
    "fast_submit": 30,
    "gibberish_name": 25,
    "velocity_ip": 25,
    "velocity_email": 20,
    "velocity_phone": 20,
    "phone_country_mismatch": 20,
    "zip_state_mismatch": 20,
    "phone_area_mismatch": 15,
    "phone_toll_free": 15,
    "phone_voip": 15,
    "phone_shared_cost": 15,
    "phone_personal_number": 10,
    "phone_pager": 10,
    "phone_uan": 10,
    "form_timestamp_missing": 10,
    "zip_unknown": 10,
    "free_email": 5,
    "unreadable_ip": 0,
    "unreadable_user_agent": 0,
}
SIGNALS = tuple(POINTS)

# A hosted form sent back faster than this was not filled in by a person.
FAST_SUBMIT_SECONDS = 3.0
# Velocity: this many earlier leads from one ip / e-mail / phone within the window.
VELOCITY_WINDOW = timedelta(hours=1)
VELOCITY_LIMITS = {"ip": 5, "email": 3, "phone": 3}
VELOCITY_KINDS = tuple(VELOCITY_LIMITS)

# The person's ip and browser as sources forward them in a payload (extras).
IP_EXTRAS = ("ip_address", "ip", "client_ip", "remote_ip", "remote_addr", "sender_ip")
USER_AGENT_EXTRAS = ("user_agent", "useragent", "http_user_agent", "browser")
MAX_USER_AGENT = 400


@dataclass(frozen=True)
class FormCheck:
    """What the hosted form tells: seconds from serving to sending (None: no readable
    stamp) and whether the honeypot field was filled in."""

    seconds: float | None
    honeypot: bool = False


@dataclass(frozen=True)
class Sender:
    """The person behind a lead as far as the request shows: ip, user agent, the form."""

    ip: str | None = None
    user_agent: str | None = None
    form: FormCheck | None = None


@dataclass(frozen=True)
class Velocity:
    """Earlier leads of the vendor within ``VELOCITY_WINDOW`` with this lead's ip, e-mail, phone."""

    ip: int = 0
    email: int = 0
    phone: int = 0


@dataclass
class Screening:
    """A lead's fraud score and its breakdown, ``[{signal, points, detail}]``."""

    signals: list[dict[str, Any]] = field(default_factory=list)

    @property
    def score(self) -> int:
        return min(100, sum(s["points"] for s in self.signals))

    @property
    def names(self) -> list[str]:
        return [s["signal"] for s in self.signals]

    def add(self, signal: str, detail: str, first: bool = False) -> None:
        entry = {"signal": signal, "points": POINTS[signal], "detail": detail}
        if first:
            self.signals.insert(0, entry)
        else:
            self.signals.append(entry)


def screen(
    fields: Mapping[str, Any], sender: Sender | None = None, velocity: Velocity | None = None
) -> Screening:
    """Screen one lead's normalized ``fields``; pure, no database."""
    found = screen_alone(fields, sender)
    if velocity is not None:
        add_velocity(found, canonical_ip((sender or Sender()).ip), velocity)
    return found


def screen_alone(fields: Mapping[str, Any], sender: Sender | None = None) -> Screening:
    """Every signal but velocity, which needs the database: what an import's reading
    process screens (``distribution.intake.prepare``) before the lookups."""
    found = Screening()
    sender = sender or Sender()
    _ip(found, sender.ip)
    _user_agent(found, sender.user_agent)
    if sender.form is not None:
        _form(found, sender.form)
    _email(found, fields.get("email"))
    for name in ("phone", "mobile"):
        if _phone(found, name, fields.get(name), fields.get("country"), fields.get("state")):
            break
    _postal(found, fields.get("country"), fields.get("state"), fields.get("postal_code"))
    _names(found, fields.get("first_name"), fields.get("last_name"))
    return found


def add_velocity(found: Screening, ip: str | None, velocity: Velocity) -> None:
    """Add the velocity signals to ``screen_alone``'s: the ip's first (a readable ip
    gives no other sender signal before it), the e-mail's and phone's last."""
    if ip is not None and velocity.ip >= VELOCITY_LIMITS["ip"]:
        found.add(
            "velocity_ip", f"{velocity.ip} earlier leads from {ip} within the hour", first=True
        )
    if velocity.email >= VELOCITY_LIMITS["email"]:
        found.add("velocity_email", f"{velocity.email} earlier leads with this e-mail in the hour")
    if velocity.phone >= VELOCITY_LIMITS["phone"]:
        found.add("velocity_phone", f"{velocity.phone} earlier leads with this phone in the hour")


# --- the sender -------------------------------------------------------------------


def _ip(found: Screening, text: str | None) -> str | None:
    """The ip as a canonical string, or None (an unreadable one is a signal of 0 points)."""
    if text is None or text == "":
        return None
    try:
        return str(ipaddress.ip_address(str(text).strip()))
    except ValueError:
        found.add("unreadable_ip", f"the sender's ip {_quote(text)} is not an address")
        return None


def canonical_ip(text: Any) -> str | None:
    """``text`` as an ip address in its canonical form, or None when it is not one."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


@cache
def _crawlers() -> Any:
    from crawlerdetect import CrawlerDetect  # type: ignore[import-untyped]

    return CrawlerDetect()


def _user_agent(found: Screening, text: Any) -> None:
    if text is None or text == "":
        return
    if not isinstance(text, str) or not text.isprintable():
        found.add("unreadable_user_agent", "the user agent is not readable text")
        return
    try:
        crawler = _crawlers().isCrawler(text[:MAX_USER_AGENT])
    except Exception:  # noqa: BLE001 - a pattern library must never stop a lead
        found.add("unreadable_user_agent", "the user agent could not be read")
        return
    if crawler:
        found.add("bot_user_agent", f"a bot or crawler's user agent: {_quote(text, 60)}")


def _form(found: Screening, form: FormCheck) -> None:
    if form.honeypot:
        found.add("honeypot", "the hidden field people never see was filled in")
    if form.seconds is None:
        found.add("form_timestamp_missing", "the form came back without a readable served-at stamp")
    elif form.seconds < FAST_SUBMIT_SECONDS:
        found.add("fast_submit", f"sent {form.seconds:.1f} s after the form was served")


# --- e-mail -------------------------------------------------------------------------


def _email(found: Screening, email: Any) -> None:
    if not isinstance(email, str) or "@" not in email:
        return
    domain = email.rsplit("@", 1)[1].strip().lower().rstrip(".")
    if is_disposable(domain):
        found.add("disposable_email", f"{domain} hands out throwaway mailboxes")
    elif is_free_mail(domain):  # a mild signal for a business lead, never one on its own
        found.add("free_email", f"{domain} is a free consumer mailbox, not a business domain")


# --- phone ----------------------------------------------------------------------------

_LINE_SIGNALS = {
    "PREMIUM_RATE": ("phone_premium_rate", "a premium-rate number"),
    "TOLL_FREE": ("phone_toll_free", "a toll-free number"),
    "VOIP": ("phone_voip", "a VoIP number"),
    "SHARED_COST": ("phone_shared_cost", "a shared-cost number"),
    "PERSONAL_NUMBER": ("phone_personal_number", "a personal (forwarding) number"),
    "PAGER": ("phone_pager", "a pager number"),
    "UAN": ("phone_uan", "a company-wide (UAN) number"),
}


def _phone(found: Screening, name: str, phone: Any, country: Any, state: Any) -> bool:
    """Screen one phone; True when it gave a signal (the mobile is then left alone)."""
    if not isinstance(phone, str) or not phone:
        return False
    import phonenumbers

    try:
        number = phonenumbers.parse(phone, None if phone.startswith("+") else "US")
    except phonenumbers.NumberParseException:
        return False
    before = len(found.signals)
    kind = phonenumbers.PhoneNumberType.to_string(phonenumbers.number_type(number))
    if kind in _LINE_SIGNALS:
        signal, words = _LINE_SIGNALS[kind]
        found.add(signal, f"the {name} {phone} is {words}")
    region = phonenumbers.region_code_for_number(number)
    if isinstance(country, str) and country and region and region not in ("001", "ZZ"):
        if region != country.upper() and not _same_plan(region, country.upper()):
            found.add(
                "phone_country_mismatch",
                f"the {name} {phone} is from {region}, the lead says {country}",
            )
        elif region in ("US", "CA") and isinstance(state, str) and state:
            area = _area_state(number, region)
            if area is not None and area != str(state).upper():
                found.add(
                    "phone_area_mismatch",
                    f"the {name}'s area code is in {area}, the lead says {state}",
                )
    return len(found.signals) > before


def _same_plan(region: str, country: str) -> bool:
    # The UK's crown dependencies share +44 mobile ranges with GB.
    return {region, country} <= {"GB", "GG", "JE", "IM"}


# (region, area code) -> its state or province: a few hundred area codes in all.
_AREA_STATES: dict[tuple[str, str], str | None] = {}


def _area_state(number: Any, region: str) -> str | None:
    """The state or province of a US/CA number's area code, from the offline geocoder.

    Every number of an area code lies in one state or province, and the geocoder
    costs more than the rest of a lead's screening: asked once per area code.
    """
    area = (region, str(number.national_number)[:3])
    if area not in _AREA_STATES:
        _AREA_STATES[area] = _geocoded_state(number, region)
    return _AREA_STATES[area]


def load_geocoder() -> None:
    """Load the offline geocoder and its data for North American numbers (about half a
    second, paid by the first lead that needs it otherwise)."""
    from phonenumbers import geocoder

    geocoder.description_for_number(phonenumbers.parse("+12015550100"), "en")


def _geocoded_state(number: Any, region: str) -> str | None:
    from phonenumbers import geocoder

    try:
        place = geocoder.description_for_number(number, "en")
    except Exception:  # noqa: BLE001 - no place is no signal
        return None
    if not place:
        return None
    tail = place.rsplit(",", 1)[-1].strip()
    if len(tail) == 2 and tail.isalpha() and tail.isupper():
        return tail
    return geo.subdivision_code(region, tail)


# --- postal code ------------------------------------------------------------------------

_ZIP = re.compile(r"(\d{5})(?:-\d{4})?")


def _postal(found: Screening, country: Any, state: Any, postal_code: Any) -> None:
    if country != "US" or not isinstance(postal_code, str) or not postal_code:
        return
    match = _ZIP.fullmatch(postal_code.strip())
    if match is None:
        return
    zip_state = _zip_state(match.group(1))
    if zip_state is None:
        found.add("zip_unknown", f"ZIP {match.group(1)} is not a US postal code in use")
    elif isinstance(state, str) and state and zip_state != state.upper():
        found.add(
            "zip_state_mismatch", f"ZIP {match.group(1)} is in {zip_state}, the lead says {state}"
        )


def _zip_state(zip5: str) -> str | None:
    entry = zip_entry(zip5)
    return entry["state"] if entry else None


# --- names ------------------------------------------------------------------------------

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEYBOARD_ROWS = (*_ROWS, *(row[::-1] for row in _ROWS))
_VOWELS = frozenset("aeiouy")
_ASCII_WORD = re.compile(r"[a-z' -]+")


def gibberish(name: str) -> str | None:
    """Why ``name`` looks typed by a cat or a bot (None: it looks like a name)."""
    text = name.strip().lower()
    if not text:
        return None
    if any(c.isdigit() for c in text):
        return "has digits"
    if re.search(r"(.)\1\1", text):
        return "repeats a letter three times"
    letters = text.replace(" ", "").replace("-", "").replace("'", "")
    for row in _KEYBOARD_ROWS:
        for start in range(len(row) - 3):
            if row[start : start + 4] in letters:
                return f"runs along the keyboard ({row[start : start + 4]})"
    if not _ASCII_WORD.fullmatch(text):
        return None  # other scripts: no vowel rules
    if len(letters) >= 4 and not _VOWELS & set(letters):
        return "has no vowels"
    for word in re.split(r"[ '-]+", text):
        # "sch" sounds as one (Hirschsprung is a name; sdkjfhg is not).
        run = max((len(r) for r in re.findall(r"[^aeiouy]+", word.replace("sch", "S"))), default=0)
        if run >= 6:
            return "has six consonants in a row"
    return None


def _names(found: Screening, first: Any, last: Any) -> None:
    for label, value in (("first name", first), ("last name", last)):
        if isinstance(value, str) and (why := gibberish(value)) is not None:
            found.add("gibberish_name", f"the {label} {_quote(value)} {why}")
            return


def _printable(text: str) -> str:
    """``text`` with control characters (NUL among them, which PostgreSQL refuses) as "?"."""
    return "".join(c if c.isprintable() else "?" for c in text)


def _quote(text: Any, limit: int = 40) -> str:
    shown = _printable(str(text))
    return repr(shown if len(shown) <= limit else shown[:limit] + "…")


# --- a batch of rows --------------------------------------------------------------------


def sender_of(sender: Sender | None, extras: Mapping[str, Any]) -> Sender:
    """The request's sender, or the one a source forwarded in the payload's extras."""
    if sender is not None and (sender.ip or sender.user_agent or sender.form):
        return sender
    ip = next((extras[k] for k in IP_EXTRAS if extras.get(k) not in (None, "")), None)
    agent = next((extras[k] for k in USER_AGENT_EXTRAS if extras.get(k) not in (None, "")), None)
    return Sender(ip=None if ip is None else str(ip)[:100], user_agent=agent)


def note_senders(rows: Sequence[dict[str, Any]], senders: Sequence[Sender]) -> None:
    """Keep each row's sender (``sender_of``), ip and user agent, on the row: before the
    lookups, which count the ip's earlier leads."""
    for row, who in zip(rows, senders, strict=True):
        row["sender_ip"] = canonical_ip(who.ip)
        agent = who.user_agent
        kept = _printable(agent[:MAX_USER_AGENT]).strip() if isinstance(agent, str) else ""
        row["user_agent"] = kept or None
        row["fraud_score"], row["fraud_signals"] = 0, []


def screen_rows(
    rows: Sequence[dict[str, Any]],
    alone: Sequence[Screening | None],
    velocity: Mapping[tuple[str, str], int],
) -> None:
    """Finish screening the ``received`` rows: each one's ``screen_alone`` with its
    velocity, from the vendor's leads of the last hour per (kind, value) of
    ``velocity_keys`` (intake's lookup, ``matching.load_matches``, counts them in its
    one round trip); earlier rows of the batch count too."""
    seen: dict[tuple[str, str], int] = {}
    for row, found in zip(rows, alone, strict=True):
        if row["status"] is not LeadStatus.RECEIVED or found is None:
            continue
        keys = velocity_keys(row)
        counted = Velocity(
            **{
                kind: velocity.get((kind, value), 0) + seen.get((kind, value), 0)
                for kind, value in keys
            }
        )
        for key in keys:
            seen[key] = seen.get(key, 0) + 1
        add_velocity(found, row["sender_ip"], counted)
        row["fraud_score"], row["fraud_signals"] = found.score, found.signals


def velocity_keys(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (kind, value) pairs whose leads of the last hour velocity counts."""
    keys = [("ip", row["sender_ip"]), ("email", row["email_key"]), ("phone", row["phone"])]
    return [(kind, value) for kind, value in keys if value]
