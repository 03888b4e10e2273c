"""Reading a URL's host the way resolvers do, so that no spelling of an address slips past."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import AddressValueError, IPv4Address, IPv6Address

import idna

from sprintconnect.egress._errors import EgressDenied
from sprintconnect.egress._ranges import IPAddress

_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
# WHATWG's "ends in a number": such a host is an IPv4 address or nothing, never a DNS name.
_NUMERIC = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)
_HEX = re.compile(r"0x[0-9a-f]*", re.IGNORECASE)
_OCTAL = re.compile(r"0[0-7]+")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True, slots=True)
class Host:
    """A normalized host: lower-case ASCII ``name`` without a trailing dot, and its address if
    the name is an IP literal in any spelling."""

    name: str
    address: IPAddress | None


def _number(part: str) -> int | None:
    # inet_aton's rules: 0x prefix is hex ("0x" alone is 0), a leading 0 is octal.
    if _HEX.fullmatch(part):
        return int(part[2:] or "0", 16)
    if _OCTAL.fullmatch(part):
        return int(part, 8)
    if _DECIMAL.fullmatch(part):
        return int(part)
    return None


def loose_ipv4(host: str) -> IPv4Address | None:
    """The address ``inet_aton`` reads from ``host`` (``127.1``, ``0x7f000001``, ``0177.0.0.1``,
    ``2130706433``, ``0``), or None when it is not an IPv4 literal in any form."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values = [_number(part) for part in parts]
    if any(value is None for value in values):
        return None
    *head, last = [value for value in values if value is not None]
    # The last part fills every byte the earlier parts left over.
    if any(value > 255 for value in head) or last >= 256 ** (4 - len(head)):
        return None
    packed = sum(value << (8 * (3 - index)) for index, value in enumerate(head)) + last
    return IPv4Address(packed)


def parse_host(raw: str) -> Host:
    """Normalize a URL authority's host (``[v6]``, IPv4 in any spelling, or a DNS name)."""
    if raw.startswith("[") and raw.endswith("]"):
        return Host(raw[1:-1].lower(), _ipv6(raw[1:-1]))
    if not raw.isascii():
        try:
            # UTS 46 maps look-alikes such as fullwidth digits and ideographic full stops to
            # ASCII, so "127。0。0。1" is checked as the 127.0.0.1 it becomes.
            raw = idna.encode(raw, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise EgressDenied("invalid_host") from exc
    name = raw.lower()
    if name.endswith("."):
        name = name[:-1]
    if not name or len(name) > 253:
        raise EgressDenied("invalid_host")
    labels = name.split(".")
    if _NUMERIC.fullmatch(labels[-1]):
        address = loose_ipv4(name)
        if address is None:
            raise EgressDenied("invalid_host")
        return Host(name, address)
    if not all(_LABEL.fullmatch(label) for label in labels):
        raise EgressDenied("invalid_host")
    return Host(name, None)


def parse_connect_host(raw: str) -> Host:
    """Normalize a host as a connection pool hands it over (IPv6 without brackets)."""
    if ":" in raw:
        return Host(raw.lower(), _ipv6(raw))
    return parse_host(raw)


def _ipv6(text: str) -> IPv6Address:
    # A zone index ("fe80::1%eth0") names a local interface; nothing outbound needs one.
    if "%" in text:
        raise EgressDenied("invalid_host")
    try:
        return IPv6Address(text)
    except AddressValueError as exc:
        raise EgressDenied("invalid_host") from exc


def host_matches(name: str, patterns: Iterable[str]) -> bool:
    """Whether ``name`` equals a pattern, or is a subdomain of a ``*.domain`` pattern."""
    for pattern in patterns:
        if pattern.startswith("*."):
            if name.endswith(pattern[1:]):
                return True
        elif name == pattern:
            return True
    return False
