"""The attack corpus: every hostile XML document is refused, reads no file, calls no URL."""

from __future__ import annotations

import pytest
from lxml import etree

from connectors import adf, xmlmap, xmlsafe
from connectors.errors import ParseError, UnsafeDocument
from tests.connectors.conftest import corpus

PASSWD_MARKERS = ("root:", "/bin/", "nologin")


def with_port(name: str, port: int) -> bytes:
    return corpus(name).replace(b"PORT", str(port).encode())


def assert_no_passwd(text: str) -> None:
    assert not any(marker in text for marker in PASSWD_MARKERS), text


@pytest.mark.parametrize("parse", [xmlsafe.parse, adf.parse_adf, xmlsafe.root_name])
def test_xxe_file_entity_is_refused_and_the_file_is_never_read(parse):
    with pytest.raises(UnsafeDocument) as refused:
        parse(corpus("attacks/xxe_file.xml"))
    assert "entit" in str(refused.value)
    assert_no_passwd(str(refused.value))


@pytest.mark.parametrize(
    "name", ["attacks/xxe_http.xml", "attacks/parameter_entity.xml", "attacks/external_dtd.xml"]
)
def test_network_entities_and_external_dtds_are_refused_without_a_request(name, http_trap):
    port, hits = http_trap
    with pytest.raises(UnsafeDocument):
        adf.parse_adf(with_port(name, port))
    assert hits == []


@pytest.mark.parametrize(
    "name",
    [
        "attacks/xxe_file.xml",
        "attacks/xxe_http.xml",
        "attacks/parameter_entity.xml",
        "attacks/external_dtd.xml",
    ],
)
def test_the_parser_alone_resolves_nothing_even_without_the_prescan(name, http_trap):
    """Defence in depth: if the declaration check were missed, the parser still fetches nothing."""
    port, hits = http_trap
    try:
        root = etree.fromstring(with_port(name, port), xmlsafe.make_parser())
    except (etree.XMLSyntaxError, UnsafeDocument):
        root = None
    if root is not None:
        text = etree.tostring(root, encoding="unicode")
        assert_no_passwd(text)
        assert "LEAKED-OVER-HTTP" not in text
    assert hits == []


def test_an_entity_node_left_in_the_tree_is_refused():
    # The declaration check is what normally stops this; the tree check backs it up.
    root = etree.fromstring(b"<adf><prospect/></adf>")
    root[0].append(etree.Entity("secret"))
    with pytest.raises(UnsafeDocument, match="entity &secret;"):
        xmlsafe._refuse_leftovers(root)


def test_billion_laughs_is_refused_at_once():
    with pytest.raises(UnsafeDocument, match="entities"):
        xmlsafe.parse(corpus("attacks/billion_laughs.xml"))


def test_xinclude_is_refused_and_never_expanded():
    with pytest.raises(UnsafeDocument, match="XInclude") as refused:
        adf.parse_adf(corpus("attacks/xinclude.xml"))
    assert_no_passwd(str(refused.value))


def test_a_two_mebibyte_document_is_refused_by_size():
    filler = b"<comments>" + b"x" * (2 * 1024 * 1024) + b"</comments>"
    document = b"<adf><prospect><customer>" + filler + b"</customer></prospect></adf>"
    with pytest.raises(UnsafeDocument, match="limit is 1048576"):
        adf.parse_adf(document)


def test_the_size_limit_is_a_parameter():
    document = b"<a>" + b"x" * 2000 + b"</a>"
    assert xmlsafe.root_name(document) == "a"
    with pytest.raises(UnsafeDocument):
        xmlsafe.parse(document, max_bytes=1000)


@pytest.mark.parametrize("depth", [10_000, 65])
def test_deep_nesting_is_refused(depth):
    document = b"<a>" * depth + b"</a>" * depth
    with pytest.raises(UnsafeDocument, match="depth|deeper"):
        xmlsafe.parse(document)


def test_nesting_up_to_the_limit_is_fine():
    document = b"<a>" * 64 + b"</a>" * 64
    assert xmlsafe.root_name(document) == "a"


def test_too_many_elements_are_refused():
    document = b"<leads>" + b"<lead/>" * 101 + b"</leads>"
    with pytest.raises(UnsafeDocument, match="over 100 elements"):
        xmlsafe.parse(document, max_elements=100)


def test_invalid_utf8_is_a_parse_error_with_its_line():
    with pytest.raises(ParseError) as failed:
        adf.parse_adf(corpus("attacks/invalid_utf8.xml"))
    assert not isinstance(failed.value, UnsafeDocument)
    assert failed.value.line == 3
    assert "line 3" in str(failed.value)


def test_malformed_xml_reports_the_line():
    with pytest.raises(ParseError, match="line 3") as failed:
        xmlsafe.parse(b"<adf>\n<prospect>\n</adf>")
    assert failed.value.line == 3


def test_an_undeclared_entity_is_a_parse_error_not_a_lookup():
    with pytest.raises(ParseError, match="not defined"):
        xmlsafe.parse(b"<a>&passwd;</a>")


def test_a_utf16_document_cannot_hide_its_entities():
    document = (
        '<?xml version="1.0" encoding="UTF-16"?>'
        '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'
    ).encode("utf-16")
    with pytest.raises(UnsafeDocument):
        xmlsafe.parse(document)


def test_a_utf16_document_without_tricks_is_read():
    document = '<?xml version="1.0" encoding="UTF-16"?><a>Zoë</a>'.encode("utf-16")
    assert xmlsafe.parse(document).text == "Zoë"


def test_a_bare_doctype_without_subset_is_harmless_and_accepted():
    assert xmlsafe.root_name(b"<!DOCTYPE adf><adf/>") == "adf"


def test_entity_declarations_in_a_vendor_layout_are_refused_too():
    evil = corpus("attacks/xxe_file.xml").replace(b"adf", b"leads")
    with pytest.raises(UnsafeDocument):
        xmlmap.parse_mapped_xml(evil, {"first_name": "string(.)"}, "/leads")


def test_predefined_and_character_references_still_work():
    root = xmlsafe.parse(b"<a>AT&amp;T &#233;t&#xE9; &lt;ok&gt;</a>")
    assert root.text == "AT&T été <ok>"


def test_a_careless_parser_would_leak_the_file_so_these_checks_can_fail():
    """The passwd assertions above are not vacuous: without hardening the file is read.

    (The loopback trap stays silent even for a careless parser when libxml2 is
    built without its HTTP client, as lxml's wheels are; it guards other builds.)
    """
    careless = etree.XMLParser(resolve_entities=True, no_network=False, load_dtd=True)
    root = etree.fromstring(corpus("attacks/xxe_file.xml"), careless)
    with pytest.raises(AssertionError):
        assert_no_passwd(etree.tostring(root, encoding="unicode"))
