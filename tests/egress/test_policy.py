"""Operator settings, org allowlists and the address rules behind them."""

from __future__ import annotations

import uuid
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

import pytest

from sprintconnect.config import Settings
from sprintconnect.egress import (
    DEFAULT_DENIED_PORTS,
    EgressDenied,
    EgressPolicy,
    EgressRateLimited,
    check_address,
    check_url,
    parse_allowlist,
    policy_from_settings,
)
from sprintconnect.egress._hosts import loose_ipv4
from sprintconnect.egress._ranges import DENIED, category, embedded_ipv4
from sprintconnect.errors import ValidationFailed


def denied(url: str, policy: EgressPolicy) -> str:
    with pytest.raises(EgressDenied) as caught:
        check_url(url, policy)
    return caught.value.reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0", "0.0.0.0"),  # noqa: S104 -- parsed, never bound
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F.0.0.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x", "0.0.0.0"),  # noqa: S104 -- parsed, never bound
        ("255.255.65535", "255.255.255.255"),
        ("1.2.3.4.5", None),
        ("256.0.0.1", None),
        ("1.16777216", None),
        ("08", None),
        ("0x1g", None),
        ("1..2", None),
        ("", None),
        ("example", None),
    ],
)
def test_loose_ipv4_reads_what_inet_aton_reads(text: str, expected: str | None) -> None:
    result = loose_ipv4(text)
    assert (str(result) if result else None) == expected


def test_every_table_row_is_denied_by_default() -> None:
    for network, name in DENIED:
        with pytest.raises(EgressDenied):
            check_address(network.network_address, EgressPolicy())
        assert category(network.network_address) in {name, "unspecified", "loopback"}


def test_embedded_ipv4_of_translation_prefixes() -> None:
    assert embedded_ipv4(IPv6Address("::ffff:10.0.0.1")) == [IPv4Address("10.0.0.1")]
    assert embedded_ipv4(IPv6Address("64:ff9b::a00:1")) == [IPv4Address("10.0.0.1")]
    assert embedded_ipv4(IPv6Address("2002:a00:1::1")) == [IPv4Address("10.0.0.1")]
    assert IPv4Address("10.0.0.1") not in embedded_ipv4(IPv6Address("2606:4700:4700::1111"))
    assert embedded_ipv4(IPv4Address("10.0.0.1")) == []


def test_loopback_only_by_the_switch() -> None:
    assert denied("http://127.0.0.1/", EgressPolicy()) == "address_denied:loopback"
    assert check_url("http://127.0.0.1/", EgressPolicy(allow_loopback=True)).port == 80
    assert check_url("http://[::1]/", EgressPolicy(allow_loopback=True)).port == 80
    assert check_url("http://localhost/", EgressPolicy(allow_loopback=True)).port == 80
    # Listing loopback as a private range does not open it.
    wide = EgressPolicy(allow_private=(ip_network("127.0.0.0/8"), ip_network("::1/128")))
    assert denied("http://127.0.0.1/", wide) == "address_denied:loopback"


def test_private_ranges_only_when_listed() -> None:
    policy = EgressPolicy(allow_private=(ip_network("10.0.0.0/8"), ip_network("fc00::/7")))
    assert check_url("http://10.1.2.3/", policy).address == ip_address("10.1.2.3")
    assert check_url("http://[fc00::1]/", policy).port == 80
    assert denied("http://172.16.0.1/", policy) == "address_denied:private"
    assert denied("http://127.0.0.1/", policy) == "address_denied:loopback"


def test_unspecified_is_never_opened() -> None:
    policy = EgressPolicy(allow_loopback=True, allow_private=(ip_network("0.0.0.0/8"),))
    assert denied("http://0.0.0.0/", policy) == "address_denied:unspecified"


@pytest.mark.parametrize(
    "host", ["169.254.169.254", "[fd00:ec2::254]", "100.100.100.200", "[::ffff:a9fe:a9fe]"]
)
def test_metadata_stays_denied_whatever_is_allowed(host: str) -> None:
    everything = EgressPolicy(
        allow_loopback=True,
        allow_private=tuple(ip_network(c) for c in ("0.0.0.0/0", "::/0")),
        allowlist_networks=(ip_network("0.0.0.0/0"), ip_network("::/0")),
    )
    assert denied(f"http://{host}/", everything) == "metadata_address"


def test_embedded_address_is_checked_too() -> None:
    mapped_open = EgressPolicy(allow_private=(ip_network("::ffff:0:0/96"),))
    assert denied("http://[::ffff:10.0.0.1]/", mapped_open) == "address_denied:private"
    both_open = EgressPolicy(allow_private=(ip_network("::ffff:0:0/96"), ip_network("10.0.0.0/8")))
    assert check_url("http://[::ffff:10.0.0.1]/", both_open).port == 80
    # Loopback behind a mapped address is still loopback, and still needs the switch.
    assert denied("http://[::ffff:127.0.0.1]/", mapped_open) == "address_denied:loopback"


def test_allowlist_of_hosts() -> None:
    hosts, networks = parse_allowlist(["MCP.Example.com.", "*.corp.example"])
    policy = EgressPolicy(allowlist_hosts=hosts, allowlist_networks=networks)
    assert check_url("https://mcp.example.com/", policy).host == "mcp.example.com"
    assert check_url("https://a.b.corp.example/", policy).host == "a.b.corp.example"
    assert denied("https://corp.example/", policy) == "not_in_allowlist"
    assert denied("https://other.example.com/", policy) == "not_in_allowlist"
    assert denied("https://8.8.8.8/", policy) == "not_in_allowlist"
    assert denied("https://mcp.example.com:22/", policy) == "port_denied"


def test_allowlist_of_networks() -> None:
    hosts, networks = parse_allowlist(["8.8.8.0/24", "2606:4700::/32", "1.1.1.1"])
    policy = EgressPolicy(allowlist_hosts=hosts, allowlist_networks=networks)
    assert check_url("https://8.8.8.8/", policy).port == 443
    assert check_url("https://1.1.1.1/", policy).port == 443
    assert check_url("https://[2606:4700:4700::1111]/", policy).port == 443
    assert denied("https://9.9.9.9/", policy) == "not_in_allowlist"
    # A name is decided once its addresses are known (see test_connect).
    assert check_url("https://any.example/", policy).address is None


def test_allowlist_does_not_lift_the_deny_list() -> None:
    hosts, networks = parse_allowlist(["10.0.0.0/8", "127.0.0.1"])
    policy = EgressPolicy(allowlist_hosts=hosts, allowlist_networks=networks)
    assert denied("http://10.0.0.1/", policy) == "address_denied:private"
    assert denied("http://127.0.0.1/", policy) == "address_denied:loopback"
    with_loopback = EgressPolicy(allow_loopback=True, allowlist_networks=networks)
    assert check_url("http://127.0.0.1/", with_loopback).port == 80
    assert denied("http://[::1]/", with_loopback) == "not_in_allowlist"


@pytest.mark.parametrize("entry", ["", "*.", "a..b", "*.10.0.0.1", "http://x/", "exa mple"])
def test_bad_allowlist_entries_are_refused(entry: str) -> None:
    with pytest.raises(ValueError, match=r"host|wildcard|CIDR"):
        parse_allowlist([entry])


def test_policy_from_settings() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        egress_allow_loopback=True,
        egress_allow_private_cidrs=["10.0.0.0/8"],
        egress_denied_ports=[22, 8080],
        egress_rate_limit="5/second",
    )
    org = uuid.uuid4()
    policy = policy_from_settings(settings, ["mcp.example.com", "8.8.8.0/24"], org_id=org)
    assert policy.allow_loopback is True
    assert policy.allow_private == (ip_network("10.0.0.0/8"),)
    assert policy.denied_ports == frozenset({22, 8080})
    assert policy.allowlist_hosts == frozenset({"mcp.example.com"})
    assert policy.allowlist_networks == (ip_network("8.8.8.0/24"),)
    assert policy.org_id == str(org)
    assert policy.rate_limit == "5/second"
    with pytest.raises(AttributeError):
        policy.allow_loopback = False  # type: ignore[misc]


def test_defaults_from_settings() -> None:
    policy = policy_from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    assert policy.denied_ports == DEFAULT_DENIED_PORTS
    assert policy.allow_loopback is False
    assert not policy.has_allowlist


def test_redis_password_stays_out_of_repr() -> None:
    policy = EgressPolicy(rate_limit="1/second", rate_limit_storage="redis://:hunter2@cache:6379")
    assert "hunter2" not in repr(policy)


def test_denial_is_a_problem() -> None:
    error = EgressDenied("address_denied:private")
    assert isinstance(error, ValidationFailed)
    problem = error.to_problem(instance="/servers", request_id="r1").model_dump()
    assert problem["status"] == 422
    assert problem["type"] == "/problems/egress-denied"
    assert problem["reason"] == "address_denied:private"
    assert "10." not in (problem["detail"] or "")


def test_rate_limit_is_a_429_denial() -> None:
    error = EgressRateLimited(7, "5/minute")
    assert isinstance(error, EgressDenied)
    assert error.reason == "rate_limited"
    assert error.headers["Retry-After"] == "7"
    problem = error.to_problem(instance=None, request_id=None).model_dump()
    assert (problem["status"], problem["type"]) == (429, "/problems/egress-rate-limited")
