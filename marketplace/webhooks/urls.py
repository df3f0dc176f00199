"""Where a webhook may be delivered: an `https` URL whose name resolves only to public
addresses. Checked when the URL is saved and again at every delivery, which then connects to
the address it checked, so a name that changes its answer in between (DNS rebinding) gains
nothing. Development and tests may allow `http` and local addresses."""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from marketplace.kernel.errors import Invalid

MAX_URL = 2000


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def parse(url: str, allow_private: bool) -> Target:
    """The URL's parts, or 422 for one a webhook may not use."""
    if len(url) > MAX_URL:
        raise Invalid(f"url: at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise Invalid("url: not a URL") from error
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed:
        raise Invalid("url: a webhook is delivered over https only")
    if not parts.hostname or parts.username or parts.password:
        raise Invalid("url: give a host, and no user or password in it")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(
        parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path
    )


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def resolve(target: Target, allow_private: bool) -> str:
    """The address to connect to: the first the name resolves to, once every address it
    resolves to is public (one private answer is enough to refuse)."""
    try:
        found = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise Invalid(f"url: {target.host} does not resolve") from error
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        raise Invalid(f"url: {target.host} does not resolve")
    if not allow_private:
        refused = [a for a in addresses if not is_public(a)]
        if refused:
            raise Invalid(
                f"url: {target.host} resolves to {refused[0]}, a loopback, private, "
                "link-local or multicast address"
            )
    return addresses[0]


def check(url: str, allow_private: bool) -> Target:
    target = parse(url, allow_private)
    resolve(target, allow_private)
    return target
