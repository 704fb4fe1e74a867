"""The one hardened way to read untrusted XML; every XML connector goes through it.

What is refused, as ``UnsafeDocument``, before any entity could be expanded or any
file or URL touched: a DOCTYPE with an internal subset or an external DTD, any
ENTITY declaration, any Entity node left in the tree, XInclude elements, and
documents over a size, depth or element-count limit. The parser itself is also
built not to resolve entities, load DTDs or use the network, and its resolver
refuses every URL, so a check we missed still reads nothing.

Malformed XML and bad encodings are ``ParseError`` with the line number.
"""

from __future__ import annotations

import re
from typing import NoReturn

from lxml import etree

from connectors.errors import ParseError, UnsafeDocument

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_ELEMENTS = 50_000

_XINCLUDE_NAMESPACES = frozenset(
    {"http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude"}
)

_DOCTYPE = re.compile(rb"<!DOCTYPE\b(?P<rest>[^>\[]*)(?P<subset>\[)?", re.IGNORECASE)
_EXTERNAL_ID = re.compile(rb"\b(SYSTEM|PUBLIC)\b", re.IGNORECASE)
_ENTITY_DECL = re.compile(rb"<!ENTITY\b", re.IGNORECASE)
# Prolog processing instructions before the root element, like <?ADF VERSION "1.0"?>.
_PROLOG_PI = re.compile(rb"\s*<\?(?P<target>[^\s?]*)(?P<body>.*?)\?>", re.DOTALL)


class _RefuseEverything(etree.Resolver):
    """A resolver that loads nothing: any attempt to fetch a DTD or entity is an attack."""

    def resolve(self, url: str, pubid: str | None, context: object) -> NoReturn:
        raise UnsafeDocument(f"the document tries to load an external resource ({url})")


def make_parser() -> etree.XMLParser:
    """A parser that resolves no entity, loads no DTD and touches no network."""
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )
    parser.resolvers.add(_RefuseEverything())
    return parser


def parse(
    data: bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    max_elements: int = MAX_ELEMENTS,
) -> etree._Element:
    """The root element of ``data``, or ``UnsafeDocument`` / ``ParseError``."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("xmlsafe.parse takes bytes")
    data = bytes(data)
    if len(data) > max_bytes:
        raise UnsafeDocument(f"the XML document is {len(data)} bytes; the limit is {max_bytes}")
    _refuse_declarations(data)
    root = _read(_tidy_prolog(data))
    _refuse_leftovers(root)
    _check_shape(root, max_depth, max_elements)
    return root


def root_name(data: bytes, **limits: int) -> str:
    """The local name of the root element (after the same checks as ``parse``)."""
    return etree.QName(parse(data, **limits)).localname


def local(element: etree._Element) -> str:
    """An element's tag without namespace, lower-cased (senders vary the case)."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2].lower()


def _scan_text(data: bytes) -> bytes:
    """Bytes in which markup can be searched with ASCII patterns, whatever the encoding."""
    head = data[:4]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        for codec in ("utf-32", "utf-16"):
            try:
                return data.decode(codec).encode("utf-8")
            except UnicodeDecodeError:
                continue
        raise ParseError("the XML document is in an encoding we cannot read", line=1)
    return data


def _refuse_declarations(data: bytes) -> None:
    text = _scan_text(data)
    if _ENTITY_DECL.search(text):
        raise UnsafeDocument("the XML document declares entities; entities are not accepted")
    for match in _DOCTYPE.finditer(text):
        if match.group("subset"):
            raise UnsafeDocument("the XML document has a DOCTYPE internal subset; remove it")
        if _EXTERNAL_ID.search(match.group("rest")):
            raise UnsafeDocument("the XML document refers to an external DTD; remove the DOCTYPE")


def _tidy_prolog(data: bytes) -> bytes:
    """Drop what real senders put before the root that is not well-formed XML.

    ADF senders write ``<?ADF VERSION "1.0"?>`` and the spec's own
    ``<?XML VERSION "1.0"?>`` (an invalid PI name), sometimes after blank lines.
    Only a real lower-case XML declaration is kept, moved first for its encoding;
    the other prolog instructions are dropped (the parser drops PIs anyway).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if _scan_text(data) is not data:
        return data  # UTF-16/32: the prolog is left to the parser
    position, declaration, count = 0, b"", 0
    while match := _PROLOG_PI.match(data, position):
        if not declaration and match.group("target") == b"xml":
            declaration = match.group(0).strip()
        count += 1
        position = match.end()
    if count == 1 and declaration and data.startswith(b"<?xml"):
        return data  # the usual, well-formed case: untouched
    rest = data[position:].lstrip()
    return declaration + b"\n" + rest if declaration else rest


def _read(data: bytes) -> etree._Element:
    try:
        root = etree.fromstring(data, make_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or None
        message = _syntax_message(exc)
        if "depth" in message.lower() or "amplification" in message.lower():
            raise UnsafeDocument(f"the XML document is refused: {message}") from exc
        where = f" at line {line}" if line else ""
        raise ParseError(f"malformed XML{where}: {message}", line=line) from exc
    if root is None:
        raise ParseError("the body holds no XML element", line=1)
    return root


def _check_shape(root: etree._Element, max_depth: int, max_elements: int) -> None:
    """Depth and element count; the byte limit keeps this walk small."""
    depth = count = 0
    for event, _node in etree.iterwalk(root, events=("start", "end")):
        if event == "end":
            depth -= 1
            continue
        depth += 1
        count += 1
        if depth > max_depth:
            raise UnsafeDocument(f"the XML document nests deeper than {max_depth} levels")
        if count > max_elements:
            raise UnsafeDocument(f"the XML document has over {max_elements} elements")


def _syntax_message(exc: etree.XMLSyntaxError) -> str:
    message = exc.msg or str(exc)
    return re.sub(r",? line \d+, column \d+$", "", message.split(" (<string>")[0]).strip()


def _refuse_leftovers(root: etree._Element) -> None:
    tree = root.getroottree()
    info = tree.docinfo
    if info.system_url or info.public_id:
        raise UnsafeDocument("the XML document refers to an external DTD; remove the DOCTYPE")
    subset = info.internalDTD
    if subset is not None and (list(subset.iterentities()) or list(subset.iterelements())):
        raise UnsafeDocument("the XML document has a DOCTYPE internal subset; remove it")
    for node in root.iter():
        if isinstance(node, etree._Entity):
            raise UnsafeDocument(f"the XML document uses the entity {node.text}; not accepted")
        tag = node.tag
        if isinstance(tag, str) and tag.startswith("{"):
            namespace = tag[1:].partition("}")[0]
            if namespace in _XINCLUDE_NAMESPACES:
                raise UnsafeDocument("the XML document uses XInclude; not accepted")
