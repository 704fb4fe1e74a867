"""The SSRF guard: internal destinations are refused when saved and at send time, unless
allowlisted; HTTP and fax API URLs, and the SMTP servers of email and email-to-fax
destinations alike."""

from __future__ import annotations

import pytest

from connectors.outbound import (
    ConnectorError,
    DestinationRefused,
    HostNotResolved,
    check_settings,
    check_url,
    deliver,
)
from connectors.outbound.http import _pinned
from connectors.outbound.ssrf import CheckedURL, check_host
from tests.connectors.conftest import internal_hosts, url_host
from tests.connectors.outbound_peers import LOOPBACK, BuyerEndpoint, a_lead

INTERNAL_HOSTS = internal_hosts()


def _email(host: str) -> dict:
    return {"to": "desk@partner.example.com", "from": "leads@leadrelay.example.com",
            "smtp": {"host": host, "port": 587, "starttls": True}}  # fmt: skip


def _fax_gateway(host: str) -> dict:
    return {"mode": "gateway", "number": "+15555550100", "gateway": "fax.example.net",
            "from": "faxes@leadrelay.example.com", "smtp": {"host": host}}  # fmt: skip


def _fax_api(host: str) -> dict:
    return {"mode": "api", "number": "+15555550100", "url": f"https://{url_host(host)}/v1/faxes"}


# Every kind of destination a vendor can point at a host, and the setting that names it.
HOST_SETTINGS = [
    pytest.param("email", _email, "smtp.host", id="email-smtp"),
    pytest.param("fax", _fax_gateway, "smtp.host", id="fax-gateway-smtp"),
    pytest.param("fax", _fax_api, "url", id="fax-api"),
    pytest.param("http_json", lambda h: {"url": f"http://{url_host(h)}:8080/in"}, "url", id="http"),
]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost:8080/x",
        "http://10.0.0.1/",
        "http://192.168.1.10/",
        "http://172.16.0.5/",
        "http://100.64.0.1/",  # carrier-grade NAT
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        "http://[::1]/",
        "http://[::]/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[fd00:ec2::254]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 form of 169.254.169.254
        "http://[2002:7f00:1::]/",  # 6to4 form of 127.0.0.1
        "http://2130706433/",  # 127.0.0.1 as one number
        "http://0x7f000001/",
        "http://127.1/",
    ],
)
def test_internal_addresses_are_refused(url):
    with pytest.raises(DestinationRefused, match="refused"):
        check_url(url)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "gopher://example.com/", "ftp://example.com/", "//example.com"]
)
def test_other_schemes_are_refused_even_when_allowlisted(url):
    with pytest.raises(DestinationRefused, match="scheme"):
        check_url(url, allow_hosts=("example.com",))


def test_the_metadata_endpoint_is_named_in_the_message():
    with pytest.raises(DestinationRefused, match="cloud metadata"):
        check_url("http://169.254.169.254/")


def test_a_public_address_passes_and_is_the_one_to_connect_to():
    checked = check_url("https://93.184.215.14:8443/leads")
    assert (checked.host, checked.port, checked.connect_address) == (
        "93.184.215.14",
        8443,
        "93.184.215.14",
    )
    assert not checked.allowlisted


def test_an_allowlisted_host_or_host_and_port_passes():
    assert check_url("http://127.0.0.1:9000/x", allow_hosts=("127.0.0.1",)).allowlisted
    assert check_url("http://127.0.0.1:9000/x", allow_hosts=("127.0.0.1:9000",)).allowlisted
    with pytest.raises(DestinationRefused):
        check_url("http://127.0.0.1:9001/x", allow_hosts=("127.0.0.1:9000",))
    assert check_url("http://[::1]:9000/", allow_hosts=("[::1]:9000",)).allowlisted


def test_a_name_that_does_not_resolve_is_its_own_error_in_plain_words():
    with pytest.raises(HostNotResolved) as caught:
        check_url("http://no-such-host.invalid/")
    assert str(caught.value) == "no such host: no-such-host.invalid"


def test_send_refuses_loopback_without_the_allowlist_and_sends_with_it():
    with BuyerEndpoint() as buyer:
        refused = deliver("http_form", a_lead(), {"url": buyer.url}, webhook_id="msg_1")
        assert (refused.outcome, refused.retryable) == ("rejected", False)
        assert "loopback" in refused.detail
        assert buyer.received == []
        sent = deliver(
            "http_form", a_lead(), {"url": buyer.url}, webhook_id="msg_1", allow_hosts=LOOPBACK
        )
        assert sent.outcome == "delivered" and len(buyer.received) == 1


def test_an_unresolvable_host_at_send_time_is_retried():
    result = deliver("http_json", a_lead(), {"url": "http://nowhere.invalid/"}, webhook_id="m")
    assert (result.outcome, result.retryable) == ("retry", True)


def test_the_settings_form_check_names_the_url():
    with pytest.raises(ConnectorError) as refused:
        check_settings("http_json", {"url": "http://10.1.2.3/hook"})
    assert refused.value.setting == "url" and "private" in str(refused.value)
    check_settings("http_json", {"url": "http://10.1.2.3/hook"}, allow_hosts=("10.1.2.3",))


def test_the_fax_api_url_is_guarded_too():
    settings = {"mode": "api", "number": "+15555550100", "url": "http://169.254.169.254/fax"}
    result = deliver("fax", a_lead(), settings, webhook_id="msg_fax")
    assert result.outcome == "rejected" and "metadata" in result.detail


def test_the_connection_goes_to_the_checked_address_under_the_original_name():
    # A name that resolves again at connect time could answer differently (DNS
    # rebinding); the request is aimed at the address that passed the check.
    checked = CheckedURL(
        url="https://buyer.example.com:8443/in?x=1",
        scheme="https",
        host="buyer.example.com",
        port=8443,
        addresses=("93.184.215.14",),
        allowlisted=False,
    )
    url, extensions, host_header = _pinned(checked)
    assert str(url) == "https://93.184.215.14:8443/in?x=1"
    assert extensions == {"sni_hostname": "buyer.example.com"}
    assert host_header == "buyer.example.com:8443"


@pytest.mark.parametrize("host", INTERNAL_HOSTS)
def test_every_spelling_in_the_attack_corpus_is_an_internal_host(host):
    with pytest.raises(DestinationRefused, match="sending there is refused"):
        check_host(host, 25)


@pytest.mark.parametrize("host", INTERNAL_HOSTS)
@pytest.mark.parametrize(("kind", "settings", "setting"), HOST_SETTINGS)
def test_internal_hosts_are_refused_when_a_destination_is_saved(kind, settings, setting, host):
    with pytest.raises(ConnectorError) as refused:
        check_settings(kind, settings(host))
    assert refused.value.setting == setting
    assert "sending there is refused" in refused.value.message


@pytest.mark.parametrize("host", INTERNAL_HOSTS)
@pytest.mark.parametrize(("kind", "settings", "setting"), HOST_SETTINGS)
def test_internal_hosts_are_refused_when_sent(kind, settings, setting, host):
    # Saved before the guard existed, or saved while allowlisted: still refused at send.
    result = deliver(kind, a_lead(), settings(host), webhook_id="msg_probe")
    assert (result.outcome, result.retryable) == ("rejected", False)
    assert "sending there is refused" in result.detail


def test_an_allowlisted_smtp_server_passes_the_save_check():
    check_settings("email", _email("10.1.2.3"), allow_hosts=("10.1.2.3",))
    check_settings("fax", _fax_gateway("10.1.2.3"), allow_hosts=("10.1.2.3:25",))
    with pytest.raises(ConnectorError, match="private"):
        check_settings("email", _email("10.1.2.3"), allow_hosts=("10.1.2.3:25",))  # port 587


def test_a_public_smtp_server_passes_the_save_check():
    check_settings("email", _email("93.184.215.14"))
