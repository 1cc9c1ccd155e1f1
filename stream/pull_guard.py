"""Which pull URLs livecut may connect to: a pull room must not turn the server into a proxy
into its own network (its /metrics, SSH on port 22, a cloud metadata service).

A pull URL needs an rtmp, http or https scheme and a host. Its host is resolved, and every
address it resolves to must be public: loopback, private, link-local, multicast, reserved
and unspecified addresses are refused unless the allow-list names them. An allow-list entry
is a host name (matched exactly, case-insensitive), an address, or a network in CIDR form
("10.0.0.0/8"), e.g. the nginx-rtmp front on 127.0.0.1. The check runs when a room is created
and again before each connection, so a name that later resolves elsewhere is caught too.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

PULL_SCHEMES = ("rtmp", "http", "https")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class PullUrlRefused(ValueError):
    """The URL may not be pulled from; the message says why."""


def check_pull_url(url: str, allow: Iterable[str] = ()) -> None:
    """Raise PullUrlRefused unless `url` is a supported scheme on a public (or allowed) host."""
    parts = urlsplit(url)
    if parts.scheme not in PULL_SCHEMES:
        raise PullUrlRefused(f"url scheme must be one of {', '.join(PULL_SCHEMES)}, not {parts.scheme!r}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise PullUrlRefused(f"url has an invalid port: {exc}") from None
    if not host:
        raise PullUrlRefused("url has no host")
    names, networks = _allow_list(allow)
    if host.lower() in names:
        return
    for address in _resolve(host, port):
        if not address.is_global and not any(address in network for network in networks):
            raise PullUrlRefused(
                f"url host {host} is a {_kind(address)} address ({address}): not pulled from unless "
                "ingest.pull_allow names it"
            )


def _allow_list(allow: Iterable[str]) -> tuple[set[str], list[Network]]:
    names: set[str] = set()
    networks: list[Network] = []
    for entry in allow:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.lower())
    return names, networks


def _resolve(host: str, port: int | None) -> list[Address]:
    try:
        return [_unmapped(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port or 0, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise PullUrlRefused(f"url host {host} does not resolve: {exc}") from None
    return [_unmapped(ipaddress.ip_address(info[4][0].split("%")[0])) for info in infos]


def _unmapped(address: Address) -> Address:
    """::ffff:127.0.0.1 is 127.0.0.1."""
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _kind(address: Address) -> str:
    for kind in ("unspecified", "loopback", "link_local", "multicast", "private", "reserved"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return "non-public"
