"""The guard that keeps outbound posts and mails off our own network (server-side request forgery).

A destination's host (an HTTP URL's, or a vendor-set SMTP server's) is resolved
when it is sent, every address it resolves to is checked, and the connection
goes to an address that was checked, so a DNS answer that changes between check
and connect (rebinding) cannot slip through. Refused: URL schemes other than
http/https, loopback, private, link-local, shared (CGNAT), reserved, multicast
and unspecified addresses, cloud metadata endpoints, and IPv6 forms that carry
such an IPv4 address inside (mapped, compatible, NAT64, 6to4, Teredo). The
vendor settings form calls ``check_url`` / ``check_host`` when a destination is
saved; ``send`` calls them again before every attempt.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from connectors.outbound.errors import no_such_host

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_METADATA = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
        ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
        ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
    }
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_SCHEMES = frozenset({"http", "https"})


@functools.lru_cache(maxsize=1024)
def parse_url(url: str) -> httpx.URL:
    """``httpx.URL(url)``, parsed once per text: a destination's URL is read at every
    render, check and send. ``httpx.URL`` objects are immutable, so sharing is safe."""
    return httpx.URL(url)


class DestinationRefused(ValueError):
    """The URL or host may not be sent to; the message says why and what to do."""


class HostNotResolved(DestinationRefused):
    """The host name does not resolve now; at send time this is worth retrying."""


@dataclass(frozen=True)
class CheckedHost:
    """A host and port that passed the guard, and the addresses to connect to."""

    host: str
    port: int
    addresses: tuple[str, ...]
    allowlisted: bool


@dataclass(frozen=True)
class CheckedURL:
    """A URL that passed the guard, and the address to connect to."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]
    allowlisted: bool

    @property
    def connect_address(self) -> str:
        """The checked address the connection must go to."""
        return self.addresses[0]


def check_url(url: str, allow_hosts: Iterable[str] = ()) -> CheckedURL:
    """Resolve ``url``'s host and refuse internal destinations, unless allowlisted.

    ``allow_hosts`` holds host names, addresses or ``host:port`` entries the
    operator trusts (a partner on the private network, a test server); they skip
    the address checks but not the scheme check.
    """
    try:
        parsed = parse_url(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise DestinationRefused(f"{url!r} is not a valid URL: {exc}") from None
    scheme = parsed.scheme.lower()
    if scheme not in _SCHEMES:
        raise DestinationRefused(
            f"the URL scheme {scheme or '(none)'!r} is not allowed; use http or https"
        )
    host = parsed.host.lower().rstrip(".")
    if not host:
        raise DestinationRefused(f"{url!r} has no host")
    port = parsed.port or (443 if scheme == "https" else 80)
    checked = check_host(host, port, allow_hosts)
    return CheckedURL(
        url=url,
        scheme=scheme,
        host=host,
        port=port,
        addresses=checked.addresses,
        allowlisted=checked.allowlisted,
    )


def check_host(host: str, port: int, allow_hosts: Iterable[str] = ()) -> CheckedHost:
    """Resolve ``host`` and refuse it when any of its addresses is internal, unless allowlisted.

    The same check as ``check_url`` for a bare host and port (an SMTP server).
    ``allow_hosts`` entries are host names, addresses or ``host:port``.
    """
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]  # an IPv6 address written as in a URL
    if not host:
        raise DestinationRefused("no host is given")
    addresses = _resolve(host, port)
    allowlisted = _allowlisted(host, port, allow_hosts)
    if not allowlisted:
        for address in addresses:
            reason = refusal(address)
            if reason:
                shown = host if host == str(address) else f"{host} ({address})"
                raise DestinationRefused(
                    f"{shown} is {reason}; sending there is refused "
                    "(ask the operator to allowlist it if it is a trusted partner)"
                )
    return CheckedHost(
        host=host,
        port=port,
        addresses=tuple(str(a) for a in addresses),
        allowlisted=allowlisted,
    )


def refusal(address: IPAddress) -> str | None:
    """Why ``address`` may not be posted to, or None when it is a public address."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        inner = refusal(embedded)
        return f"an IPv6 form of {embedded}, {inner}" if inner else None
    if address in _METADATA:
        return "a cloud metadata endpoint"
    if isinstance(address, ipaddress.IPv6Address) and address in _NAT64_LOCAL:
        return "a local-use NAT64 address"
    for flag, reason in (
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private address"),
        ("is_reserved", "a reserved address"),
        ("is_site_local", "a site-local address"),
    ):
        if getattr(address, flag, False):
            return reason
    if not address.is_global:
        return "not a public address"
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, when it carries one."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    packed = address.packed
    if address in _NAT64 or (packed[:12] == bytes(12) and int(address) > 0xFFFF):
        # NAT64 and the deprecated IPv4-compatible form (::a.b.c.d) end in the IPv4 address.
        return ipaddress.IPv4Address(packed[12:])
    return None


def _resolve(host: str, port: int) -> list[IPAddress]:
    if "%" not in host:
        try:
            # An address written out resolves to itself: no resolver call at each send.
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass  # a name (or a short form such as "127.1", which the resolver expands)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise HostNotResolved(no_such_host(host, exc)) from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        # An IPv6 scope ("fe80::1%eth0") is not part of the address we check.
        address = ipaddress.ip_address(str(sockaddr[0]).partition("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise HostNotResolved(no_such_host(host))
    return addresses


def _allowlisted(host: str, port: int, allow_hosts: Iterable[str]) -> bool:
    if isinstance(allow_hosts, str):
        allow_hosts = [allow_hosts]
    names = {host, f"{host}:{port}"}
    if ":" in host:
        names |= {f"[{host}]", f"[{host}]:{port}"}
    return any(entry.strip().lower().rstrip(".") in names for entry in allow_hosts)
