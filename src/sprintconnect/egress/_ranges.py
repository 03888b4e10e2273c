"""Explicit tables of the address ranges the guard refuses, and how to read an address.

``ipaddress.is_private``/``is_global`` are deliberately not used: their answers changed between
Python releases and are wrong for our purpose on NAT64, 6to4, Teredo and CGNAT space.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_network

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

# Instance metadata services (AWS, GCP, Azure, OCI; AWS over IPv6; Alibaba). Never reachable,
# whatever the operator allows, because they hand out cloud credentials.
METADATA: frozenset[IPAddress] = frozenset(
    {IPv4Address("169.254.169.254"), IPv6Address("fd00:ec2::254"), IPv4Address("100.100.100.200")}
)

# Names that point at metadata services or at this host without any DNS being involved.
METADATA_NAMES = frozenset({"metadata.google.internal", "metadata.goog", "metadata"})
LOOPBACK_NAMES = ("localhost",)

# Categories that no setting can open: "0.0.0.0" and "::" reach this host on Linux.
NEVER_ALLOWED = frozenset({"unspecified"})


def _table(*rows: tuple[str, str]) -> tuple[tuple[IPNetwork, str], ...]:
    return tuple((ip_network(cidr), category) for cidr, category in rows)


# First match wins, so more specific rows come before the ranges that contain them.
DENIED: tuple[tuple[IPNetwork, str], ...] = _table(
    ("0.0.0.0/8", "unspecified"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "cgnat"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link_local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "reserved"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "reserved"),  # deprecated 6to4 relay anycast
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmark"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("255.255.255.255/32", "broadcast"),
    ("240.0.0.0/4", "reserved"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::ffff:0:0/96", "ipv4_mapped"),
    ("::ffff:0:0:0/96", "ipv4_translated"),
    ("::/96", "ipv4_compatible"),
    ("64:ff9b::/96", "nat64"),
    ("64:ff9b:1::/48", "nat64"),
    ("100::/64", "discard"),
    ("2001::/32", "teredo"),
    ("2001:10::/28", "reserved"),  # ORCHID
    ("2001:20::/28", "reserved"),  # ORCHIDv2
    ("2001:db8::/32", "documentation"),
    ("2002::/16", "6to4"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "reserved"),  # SRv6 SIDs
    ("fc00::/7", "private"),
    ("fe80::/10", "link_local"),
    ("fec0::/10", "site_local"),
    ("ff00::/8", "multicast"),
)

# Only 2000::/3 is allocated as global unicast; anything else in IPv6 is reserved space.
GLOBAL_UNICAST_V6 = IPv6Network("2000::/3")
# Prefixes whose low 32 bits are an IPv4 address that a translator would deliver to.
_LOW32_CARRIERS = (
    IPv6Network("64:ff9b::/96"),
    IPv6Network("::/96"),
    IPv6Network("::ffff:0:0:0/96"),
)


def category(address: IPAddress) -> str | None:
    """The denied range ``address`` falls in, or None for a public address."""
    for network, name in DENIED:
        if address.version == network.version and address in network:
            return name
    if isinstance(address, IPv6Address) and address not in GLOBAL_UNICAST_V6:
        return "reserved"
    return None


def embedded_ipv4(address: IPAddress) -> list[IPv4Address]:
    """IPv4 addresses that an IPv6 address carries and that a gateway would deliver to."""
    if isinstance(address, IPv4Address):
        return []
    found: list[IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    # "::" and "::1" sit inside ::/96 but are their own addresses, not IPv4-compatible ones.
    if int(address) > 1 and any(address in carrier for carrier in _LOW32_CARRIERS):
        found.append(IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def is_metadata(address: IPAddress) -> bool:
    """Whether ``address`` is, or carries, a cloud metadata address."""
    return address in METADATA or any(v4 in METADATA for v4 in embedded_ipv4(address))
