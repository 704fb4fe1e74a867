"""Lead e-mails (RFC 822): the lead from an ADF/XML attachment or body, else from
``Key: value`` lines in the text part (or the HTML part read as text).

Keys are matched with the same vocabulary as form posts ("First Name: Ada").
The Message-ID comes back without angle brackets so a repeat can be recognised.
"""

from __future__ import annotations

import email
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from html.parser import HTMLParser

from connectors import adf, xmlsafe
from connectors.errors import ParseError, UnsafeDocument
from connectors.fields import LEAD_FIELDS, clean, fold
from connectors.namevalue import parse_form, target_field

MAX_BYTES = 10 * 1024 * 1024
XML_TYPES = frozenset({"application/xml", "text/xml", "application/x-adf+xml", "application/adf"})
XML_SUFFIXES = (".xml", ".adf")
_KEY_VALUE = re.compile(r"^\s*(?P<key>[^\s:=>][^:=]{0,48}?)\s*(?::|=)\s*(?P<value>.*?)\s*$")
_XML_START = re.compile(r"^\s*(<\?xml|<\?adf|<adf\b)", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)


@dataclass(frozen=True)
class Attachment:
    filename: str | None
    content_type: str
    size: int
    read_as_lead: bool


@dataclass
class MailLeads:
    message_id: str | None
    sender: str | None
    subject: str | None
    leads: list[dict[str, str]]
    attachments_seen: list[Attachment] = field(default_factory=list)


def parse_lead_email(
    raw: bytes, *, max_bytes: int = MAX_BYTES, aliases: Mapping[str, str] | None = None
) -> MailLeads:
    """Read one message; ``ParseError`` when it is too large or holds no lead.

    ``aliases`` (a sender's own field names, ``{"Handy": "phone"}``) are read in
    the ``Key: value`` lines of a body as a form post's names are.

    An unsafe XML part (entities, DTDs ...) raises ``UnsafeDocument`` for the
    whole message: it is an attack, not a lead.
    """
    if len(raw) > max_bytes:
        raise ParseError(f"the message is {len(raw)} bytes; the limit is {max_bytes}")
    message = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(message, EmailMessage)
    result = MailLeads(
        message_id=_message_id(message),
        sender=_sender(message),
        subject=clean(_header(message, "Subject")),
        leads=[],
    )
    texts: list[str] = []
    htmls: list[str] = []
    problems: list[str] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        filename = part.get_filename()
        if _is_attachment(part):
            payload = _payload(part)
            is_xml = content_type in XML_TYPES or (filename or "").lower().endswith(XML_SUFFIXES)
            leads = _xml_leads(payload, problems, filename) if is_xml else []
            result.leads.extend(leads)
            result.attachments_seen.append(
                Attachment(filename, content_type, len(payload), bool(leads))
            )
        elif content_type in XML_TYPES:
            payload = _payload(part)
            result.leads.extend(_xml_leads(payload, problems, content_type))
        elif content_type == "text/plain":
            texts.append(_text_of(part))
        elif content_type == "text/html":
            htmls.append(html_to_text(_text_of(part)))
    if result.leads:
        return result
    for body in [*texts, *htmls]:
        leads = _body_leads(body, problems, aliases)
        if leads:
            result.leads = leads
            return result
    seen = ", ".join(a.filename or a.content_type for a in result.attachments_seen) or "none"
    raise ParseError(
        "no lead found in the message: no ADF/XML lead and no 'Field: value' lines "
        f"naming lead fields (attachments: {seen})" + "".join(f"; {p}" for p in problems)
    )


def _body_leads(
    body: str, problems: list[str], aliases: Mapping[str, str] | None = None
) -> list[dict[str, str]]:
    """ADF pasted into the body, else one lead from its ``Key: value`` lines."""
    start = body.find("<")
    if start >= 0 and _XML_START.match(body[start:]):
        xml = _XML_DECLARATION.sub("", body[start:], count=1).strip()
        end = xml.lower().rfind("</adf>")
        document = (xml[: end + 6] if end >= 0 else xml).encode("utf-8")
        leads = _xml_leads(document, problems, "the message body")
        if leads:
            return leads
    lead = key_value_lead(body, aliases)
    return [lead] if lead else []


def key_value_lead(text: str, aliases: Mapping[str, str] | None = None) -> dict[str, str] | None:
    """The lead in ``Key: value`` lines, or None if no key names a lead field.

    Quoted replies (``>``) are skipped, the signature (``-- ``) ends the lead,
    and lines that follow a comments key without a key of their own continue it.
    """
    folded = {fold(k): v.strip() for k, v in (aliases or {}).items() if v and v.strip()}
    pairs: list[list[str]] = []
    recognised = continuing = False
    for line in text.splitlines():
        if line.rstrip() == "--":
            break
        if line.lstrip().startswith(">"):
            continue
        match = _KEY_VALUE.match(line)
        if match and not match.group("value").startswith("//"):
            key = match.group("key")
            target = target_field(key, folded)
            recognised = recognised or target in LEAD_FIELDS or target == "full_name"
            pairs.append([key, match.group("value")])
            continuing = target == "description"
        elif continuing and line.strip():
            pairs[-1][1] = f"{pairs[-1][1]}\n{line.strip()}".strip()
        else:
            continuing = False  # a blank line ends a comment
    if not recognised:
        return None
    return parse_form([(k, v) for k, v in pairs], aliases) or None


def _xml_leads(payload: bytes, problems: list[str], where: str | None) -> list[dict[str, str]]:
    """ADF leads in one XML part; a malformed part is noted and the search goes on."""
    if not payload.strip():
        return []
    try:
        if xmlsafe.root_name(payload).lower() != "adf":
            return []  # vendor XML needs a configured layout; the e-mail path has none
        return adf.parse_adf(payload)
    except UnsafeDocument:
        raise
    except ParseError as exc:
        problems.append(f"{where or 'an XML part'}: {exc}")
        return []


def _is_attachment(part: EmailMessage) -> bool:
    return part.get_content_disposition() == "attachment" or (
        part.get_filename() is not None and part.get_content_maintype() != "text"
    )


def _payload(part: EmailMessage) -> bytes:
    """The decoded bytes of a single part (a multipart one has none of its own)."""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _text_of(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):  # unknown or lying charset
        content = _payload(part).decode("utf-8", errors="replace")
    return content if isinstance(content, str) else content.decode("utf-8", errors="replace")


def _header(message: EmailMessage, name: str) -> str | None:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):  # a header too broken for the parser
        return None
    return None if value is None else str(value)


def _message_id(message: EmailMessage) -> str | None:
    value = clean(_header(message, "Message-ID"))
    if value is None:
        return None
    return clean(value.strip().strip("<>")) or None


def _sender(message: EmailMessage) -> str | None:
    try:
        header = message.get("From")
        addresses = getattr(header, "addresses", ())
        if addresses and addresses[0].addr_spec:
            return addresses[0].addr_spec
    except (ValueError, IndexError):
        return None
    return clean(str(header)) if header is not None else None


class _TextOfHtml(HTMLParser):
    """HTML as lines of text: blocks and <br> break lines, two-cell rows become ``a: b``."""

    _BLOCKS = frozenset({"p", "div", "br", "li", "h1", "h2", "h3", "h4", "table", "hr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._line: list[str] = []
        self._cells: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag == "tr":
            self._flush()
            self._cells = []
        elif tag in ("td", "th") and self._cells is not None:
            self._cells.append("")
        elif tag == "br":
            self._flush(paragraph=False)
        elif tag in self._BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self._skip = max(0, self._skip - 1)
        elif tag == "tr" and self._cells is not None:
            cells = [" ".join(c.split()) for c in self._cells if c.strip()]
            if len(cells) == 2:
                self.lines.append(f"{cells[0].rstrip(':').strip()}: {cells[1]}")
            elif cells:
                self.lines.append("  ".join(cells))
            self._cells = None
        elif tag == "br":
            self._flush(paragraph=False)
        elif tag in self._BLOCKS:
            self._flush()
            if tag == "table":
                self.lines.append("")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._cells is not None and self._cells:
            self._cells[-1] += data
        else:
            self._line.append(data)

    def _flush(self, paragraph: bool = True) -> None:
        text = " ".join("".join(self._line).split())
        if text:
            self.lines.append(text)
            if paragraph:
                self.lines.append("")  # a paragraph stands alone; a <br> only breaks the line
        self._line = []


def html_to_text(html: str) -> str:
    """Readable text of an HTML body, enough to find ``Key: value`` lines in it."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    parser._flush()
    return "\n".join(parser.lines)
