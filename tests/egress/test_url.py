"""The URL check on the whole SSRF list: pure, no resolution and no connection."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from sprintconnect.egress import CheckedUrl, EgressDenied, EgressPolicy, check_url
from sprintconnect.egress._hosts import Host
from sprintconnect.egress._url import _same_as_httpx
from tests.egress.cases import (
    DENIED_HOSTS,
    DENIED_PORTS,
    DENIED_SCHEMES,
    PUBLIC_CONTROLS,
)

DEFAULT = EgressPolicy()


def reason_for(url: str, policy: EgressPolicy = DEFAULT) -> str:
    with pytest.raises(EgressDenied) as caught:
        check_url(url, policy)
    return caught.value.reason


@pytest.mark.parametrize(("host", "reason"), DENIED_HOSTS)
@pytest.mark.parametrize("scheme", ["http", "https"])
def test_denied_hosts(scheme: str, host: str, reason: str) -> None:
    assert reason_for(f"{scheme}://{host}/mcp") == reason


@pytest.mark.parametrize("host", PUBLIC_CONTROLS)
def test_public_controls_pass(host: str) -> None:
    checked = check_url(f"https://{host}/mcp", DEFAULT)
    assert checked.address == ip_address(host.strip("[]"))
    assert checked.port == 443


def test_a_name_passes_without_resolution() -> None:
    assert check_url("https://mcp.example.com:8443/x?y=1", DEFAULT) == CheckedUrl(
        url="https://mcp.example.com:8443/x?y=1",
        scheme="https",
        host="mcp.example.com",
        port=8443,
        address=None,
    )


@pytest.mark.parametrize("url", DENIED_SCHEMES)
def test_other_schemes(url: str) -> None:
    assert reason_for(url) == "scheme_not_allowed"


@pytest.mark.parametrize("port", DENIED_PORTS)
def test_denied_ports(port: int) -> None:
    assert reason_for(f"http://mcp.example.com:{port}/") == "port_denied"


def test_denied_ports_are_configurable() -> None:
    policy = EgressPolicy(denied_ports=frozenset({8080}))
    assert reason_for("http://mcp.example.com:8080/", policy) == "port_denied"
    assert check_url("http://mcp.example.com:22/", policy).port == 22


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://1.1.1.1 &@2.2.2.2# @3.3.3.3/", "invalid_characters"),
        ("http://1.1.1.1&@2.2.2.2#@3.3.3.3/", "userinfo_not_allowed"),
        ("http://a@127.0.0.1", "userinfo_not_allowed"),
        ("http://user:pass@mcp.example.com/", "userinfo_not_allowed"),
        ("http://mcp.example.com\\@127.0.0.1/", "invalid_characters"),
        ("http://127.0.0.1\\.mcp.example.com/", "invalid_characters"),
        ("http://mcp.example.com/\r\nHost: 127.0.0.1", "invalid_characters"),
        ("http://mcp.example.com/\nx", "invalid_characters"),
        ("http://mcp.example.com/\tx", "invalid_characters"),
        ("http://mcp.example.com/\x00", "invalid_characters"),
        ("http://mcp.example.com/\u200b", "invalid_characters"),
        ("http://mcp.example.com\u3000/", "invalid_characters"),
        (" http://mcp.example.com/", "invalid_characters"),
        ("http:/mcp.example.com/", "invalid_url"),
        ("mcp.example.com/path", "invalid_url"),
        ("//mcp.example.com/", "invalid_url"),
        ("http:///path", "invalid_host"),
        ("http://:80/", "invalid_host"),
        ("http://[::1/", "invalid_host"),
        ("http://[::1]x/", "invalid_host"),
        ("http://::1/", "invalid_host"),
        ("http://[v1.abc]/", "invalid_host"),
        ("http://[fe80::1%25eth0]/", "invalid_host"),
        ("http://mcp%2eexample.com/", "invalid_host"),
        ("http://a..b/", "invalid_host"),
        ("http://-a.example/", "invalid_host"),
        ("http://mcp.example.123/", "invalid_host"),
        ("http://1.2.3.4.5/", "invalid_host"),
        ("http://08.1.1.1/", "invalid_host"),
        ("http://256.1.1.1/", "invalid_host"),
        ("http://4294967296/", "invalid_host"),
        ("http://mcp.example.com:/", "invalid_port"),
        ("http://mcp.example.com:0/", "invalid_port"),
        ("http://mcp.example.com:65536/", "invalid_port"),
        ("http://mcp.example.com:+80/", "invalid_port"),
        ("http://mcp.example.com:0x50/", "invalid_port"),
        ("http://" + "a" * 8200 + ".example/", "invalid_url"),
    ],
)
def test_parser_tricks(url: str, reason: str) -> None:
    assert reason_for(url) == reason


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1.", "address_denied:loopback"),  # a trailing dot is still the address
        ("0x7F.1", "address_denied:loopback"),
        ("0x7f.0.0.1", "address_denied:loopback"),
        ("017700000001", "address_denied:loopback"),
        ("127.0.1", "address_denied:loopback"),
        ("10.1", "address_denied:private"),
        ("0xa9fea9fe", "metadata_address"),
        ("2852039166", "metadata_address"),
        ("0251.0376.0251.0376", "metadata_address"),
        ("169.254.43518", "metadata_address"),
        ("999", "address_denied:unspecified"),
        ("0x", "address_denied:unspecified"),
        ("127。0。0。1", "address_denied:loopback"),  # ideographic full stops
        ("\uff11\uff12\uff17.\uff10.\uff10.\uff11", "address_denied:loopback"),  # fullwidth
        ("LOCALHOST", "address_denied:loopback"),
        ("mcp.localhost", "address_denied:loopback"),
        ("localhost.", "address_denied:loopback"),
        ("metadata.google.internal", "metadata_address"),
        ("[0:0:0:0:0:ffff:7f00:1]", "address_denied:ipv4_mapped"),
        ("[::127.0.0.1]", "address_denied:ipv4_compatible"),
        ("[::ffff:0:a9fe:a9fe]", "metadata_address"),
        ("[64:ff9b::a9fe:a9fe]", "metadata_address"),
        ("[2002:a9fe:a9fe::1]", "metadata_address"),
        ("[2001:db8::1]", "address_denied:documentation"),
        ("[100::1]", "address_denied:discard"),
        ("[ff02::1]", "address_denied:multicast"),
        ("[4000::1]", "address_denied:reserved"),
        ("192.0.2.1", "address_denied:documentation"),
        ("198.51.100.1", "address_denied:documentation"),
        ("203.0.113.1", "address_denied:documentation"),
        ("100.127.255.255", "address_denied:cgnat"),
        ("172.31.255.255", "address_denied:private"),
    ],
)
def test_other_spellings_and_ranges(host: str, reason: str) -> None:
    assert reason_for(f"http://{host}/") == reason


@pytest.mark.parametrize(
    "host", ["100.128.0.1", "172.32.0.1", "11.0.0.1", "[2a00:1450::1]", "münchen.example"]
)
def test_neighbours_of_denied_ranges_pass(host: str) -> None:
    assert check_url(f"https://{host}/", DEFAULT).scheme == "https"


def test_idn_host_is_checked_in_ascii() -> None:
    assert check_url("https://münchen.example/", DEFAULT).host == "xn--mnchen-3ya.example"


def test_a_url_that_httpx_reads_differently_is_refused() -> None:
    with pytest.raises(EgressDenied) as caught:
        _same_as_httpx("http://a.example/", "http", Host("b.example", None), 80)
    assert caught.value.reason == "parser_mismatch"


def test_check_url_opens_no_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    # The autouse net refuses connections; this asserts there is not even an attempt to resolve.
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("check_url touched the network")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert check_url("https://mcp.example.com/", DEFAULT).address is None
