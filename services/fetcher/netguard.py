"""Network safety: refuse URLs that reach private, loopback, link-local or metadata addresses.

Checked before connecting (every address the name resolves to) and again on the address the
connection actually reached, so a redirect or a DNS answer that changes between the two
cannot smuggle a request into the local network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from services.core.errors import BlockedAddressError, RefusedFetchError, TemporaryFetchError

ALLOWED_SCHEMES = frozenset({"http", "https"})


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_address(address: str, allow_private: bool) -> None:
    if not allow_private and not is_public_address(address):
        raise BlockedAddressError(f"address {address} is not public")


async def check_url(url: str, allow_private: bool) -> None:
    """Refuse a URL whose scheme is not HTTP(S) or whose host resolves to a non-public address."""
    parts = urlsplit(url)
    if parts.scheme not in ALLOWED_SCHEMES:
        raise RefusedFetchError(f"scheme {parts.scheme or '(none)'} is not fetched")
    host = parts.hostname
    if not host:
        raise RefusedFetchError("URL has no host")
    if allow_private:
        return
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        check_address(host, allow_private)
        return
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TemporaryFetchError(f"cannot resolve {host}: {exc.strerror}") from exc
    for info in infos:
        check_address(str(info[4][0]), allow_private)
