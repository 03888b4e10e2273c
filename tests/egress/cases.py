"""The SSRF list from TESTING.md, as data shared by the URL-level and connect-time tests."""

from __future__ import annotations

# (host as written in a URL, the reason the guard must give)
DENIED_HOSTS: list[tuple[str, str]] = [
    ("0.0.0.0", "address_denied:unspecified"),  # noqa: S104 -- a URL host, not a bind
    ("127.0.0.1", "address_denied:loopback"),
    ("127.255.255.255", "address_denied:loopback"),
    ("127.1", "address_denied:loopback"),
    ("0", "address_denied:unspecified"),
    ("2130706433", "address_denied:loopback"),
    ("0x7f000001", "address_denied:loopback"),
    ("0177.0.0.1", "address_denied:loopback"),
    ("10.0.0.1", "address_denied:private"),
    ("172.16.0.1", "address_denied:private"),
    ("192.168.1.1", "address_denied:private"),
    ("169.254.169.254", "metadata_address"),
    ("100.64.0.1", "address_denied:cgnat"),
    ("100.100.100.200", "metadata_address"),
    ("198.18.0.1", "address_denied:benchmark"),
    ("192.0.0.1", "address_denied:reserved"),
    ("224.0.0.1", "address_denied:multicast"),
    ("240.0.0.1", "address_denied:reserved"),
    ("255.255.255.255", "address_denied:broadcast"),
    ("[::]", "address_denied:unspecified"),
    ("[::1]", "address_denied:loopback"),
    ("[::ffff:127.0.0.1]", "address_denied:ipv4_mapped"),
    ("[::ffff:a9fe:a9fe]", "metadata_address"),
    ("[64:ff9b::a00:1]", "address_denied:nat64"),
    ("[64:ff9b:1::a00:1]", "address_denied:nat64"),
    ("[2002:a00:1::1]", "address_denied:6to4"),
    ("[2001:0::a00:1]", "address_denied:teredo"),
    ("[fe80::1]", "address_denied:link_local"),
    ("[fc00::1]", "address_denied:private"),
    ("[fd00:ec2::254]", "metadata_address"),
    ("[fec0::1]", "address_denied:site_local"),
]

# The same list as the addresses a resolver could answer with (what a rebinding name points at).
DENIED_ADDRESSES: list[tuple[str, str]] = [
    ("0.0.0.0", "address_denied:unspecified"),  # noqa: S104 -- a URL host, not a bind
    ("127.0.0.1", "address_denied:loopback"),
    ("127.255.255.255", "address_denied:loopback"),
    ("10.0.0.1", "address_denied:private"),
    ("172.16.0.1", "address_denied:private"),
    ("192.168.1.1", "address_denied:private"),
    ("169.254.169.254", "metadata_address"),
    ("100.64.0.1", "address_denied:cgnat"),
    ("100.100.100.200", "metadata_address"),
    ("198.18.0.1", "address_denied:benchmark"),
    ("192.0.0.1", "address_denied:reserved"),
    ("224.0.0.1", "address_denied:multicast"),
    ("240.0.0.1", "address_denied:reserved"),
    ("255.255.255.255", "address_denied:broadcast"),
    ("::", "address_denied:unspecified"),
    ("::1", "address_denied:loopback"),
    ("::ffff:127.0.0.1", "address_denied:ipv4_mapped"),
    ("::ffff:a9fe:a9fe", "metadata_address"),
    ("64:ff9b::a00:1", "address_denied:nat64"),
    ("64:ff9b:1::a00:1", "address_denied:nat64"),
    ("2002:a00:1::1", "address_denied:6to4"),
    ("2001:0::a00:1", "address_denied:teredo"),
    ("fe80::1", "address_denied:link_local"),
    ("fc00::1", "address_denied:private"),
    ("fd00:ec2::254", "metadata_address"),
    ("fec0::1", "address_denied:site_local"),
]

PUBLIC_CONTROLS = ["[2606:4700:4700::1111]", "100.63.255.254"]
DENIED_PORTS = [22, 25, 2375, 5432, 6379, 10250]
DENIED_SCHEMES = [
    "file:///etc/passwd",
    "gopher://example.com/",
    "dict://example.com:11211/",
    "ldap://example.com/",
    "ftp://example.com/",
]
