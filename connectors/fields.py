"""The lead-dict contract and the field-name vocabulary every connector shares.

A header, form name or ``Key:`` line is matched after folding case and removing
spaces, underscores, hyphens and dots, so "First Name", "first_name",
"FirstName" and "first-name" are one name.
"""

from __future__ import annotations

import re

LEAD_FIELDS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "mobile",
    "company",
    "title",
    "street",
    "city",
    "state",
    "postal_code",
    "country",
    "product",
    "interest",
    "description",
    "source",
    "campaign",
    "consent_email",
    "consent_phone",
    "consent_text",
    "external_id",
)

# A pseudo field: a whole name, split into first_name/last_name when those are absent.
FULL_NAME = "full_name"

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "first_name": ("first", "fname", "givenname", "forename", "firstnames"),
    "last_name": ("last", "lname", "surname", "familyname"),
    FULL_NAME: ("name", "fullname", "contactname", "yourname", "customername"),
    "email": ("emailaddress", "mail", "emailaddr", "youremail"),
    "phone": (
        "phonenumber",
        "telephone",
        "telephonenumber",
        "tel",
        "phone1",
        "homephone",
        "workphone",
        "dayphone",
        "daytimephone",
        "businessphone",
    ),
    "mobile": ("mobilephone", "mobilenumber", "cell", "cellphone", "cellular", "cellnumber"),
    "company": (
        "companyname",
        "organization",
        "organisation",
        "organizationname",
        "business",
        "businessname",
        "accountname",
        "employer",
    ),
    "title": ("jobtitle", "position", "jobposition"),
    "street": ("address", "address1", "addressline1", "streetaddress", "street1", "streetline1"),
    "city": ("town", "locality", "suburb"),
    "state": ("statecode", "province", "provincecode", "region", "regioncode", "stateprovince"),
    "postal_code": ("zip", "zipcode", "postcode", "postal", "zippostalcode", "zippostal"),
    "country": ("countrycode", "countryname", "countryiso"),
    "product": ("productinterest", "productname", "productofinterest", "productsofinterest"),
    "interest": ("interestlevel", "purchaseinterest"),
    "description": (
        "comments",
        "comment",
        "message",
        "notes",
        "note",
        "inquiry",
        "enquiry",
        "question",
        "questions",
        "details",
        "additionalinformation",
    ),
    "source": ("leadsource", "utmsource", "sourcename"),
    "campaign": ("campaignid", "campaignname", "utmcampaign", "campaigncode"),
    "consent_email": ("emailconsent", "emailoptin", "optinemail", "marketingconsent"),
    "consent_phone": ("phoneconsent", "smsconsent", "tcpaconsent", "callconsent"),
    "consent_text": ("consentlanguage", "tcpatext", "tcpalanguage", "consentwording"),
    "external_id": ("leadid", "referenceid", "reference", "externalreference"),
}

_FOLD = re.compile(r"[\s_\-.]+")


def fold(name: str) -> str:
    """The comparison form of a field name: lower case, no spaces/underscores/hyphens/dots."""
    return _FOLD.sub("", name).casefold()


_VOCABULARY: dict[str, str] = {}
for _field in (*LEAD_FIELDS, FULL_NAME):
    _VOCABULARY[fold(_field)] = _field
for _field, _names in _SYNONYMS.items():
    for _name in _names:
        _VOCABULARY.setdefault(fold(_name), _field)


def canonical(name: str) -> str | None:
    """The canonical field (or ``FULL_NAME``) that ``name`` stands for, else None."""
    return _VOCABULARY.get(fold(name))


def clean(value: object) -> str | None:
    """A trimmed string, or None for missing and blank values (no other normalizing)."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    text = text.strip()
    return text or None


def split_full_name(full: str) -> tuple[str | None, str | None]:
    """("Ada King", "Lovelace") from "Ada King Lovelace" or "Lovelace, Ada King".

    A single word is taken as the first name: web forms asking for a "name" get
    given names more often than family names.
    """
    full = " ".join(full.split())
    if not full:
        return None, None
    if "," in full:
        last, _, first = full.partition(",")
        if clean(first) or clean(last):
            return clean(first), clean(last)
        return full, None  # a lone comma: kept as sent, for validation to judge
    first, _, last = full.rpartition(" ")
    if not first:
        return last, None
    return first, last


def put_full_name(lead: dict[str, str], full: str) -> None:
    """Fill first/last name from a whole name without overriding given parts."""
    if lead.get("first_name") or lead.get("last_name"):
        lead.setdefault("name", full)
        return
    first, last = split_full_name(full)
    if first:
        lead["first_name"] = first
    if last:
        lead["last_name"] = last
