"""Connect-time checks: resolution, pinning, rebinding, TLS names, allowlists, rate limits.

Every client here sits on a loopback-only raw backend and a fake resolver; only the loopback
fixture servers are ever really connected to.
"""

from __future__ import annotations

import asyncio
import ssl
import uuid
from ipaddress import ip_address, ip_network

import httpx
import httpx2
import pytest
from prometheus_client import REGISTRY

from sprintconnect.egress import (
    ConnectGuard,
    EgressDenied,
    EgressPolicy,
    EgressRateLimited,
    IPAddress,
    build_async_client,
    mcp_client_factory,
    parse_allowlist,
    system_resolver,
)
from sprintconnect.egress._backend import GuardedBackend
from tests.egress.cases import DENIED_ADDRESSES
from tests.egress.conftest import ClientFactory
from tests.egress.support import FakeResolver, LoopbackOnly2, OffMachineConnect, TinyServer

LOOPBACK_OK = EgressPolicy(allow_loopback=True)
CONNECT_ERRORS = (httpx2.ConnectError, httpx.ConnectError)


async def refused(make_client: ClientFactory, policy: EgressPolicy, url: str, **names: str) -> str:
    client, raw = make_client(policy, FakeResolver.fixed(**names))
    async with client:
        with pytest.raises(EgressDenied) as caught:
            await client.get(url)
    assert raw.attempts == [], "the guard must refuse before any connection is opened"
    return caught.value.reason


@pytest.mark.parametrize(("address", "reason"), DENIED_ADDRESSES)
async def test_a_name_resolving_to_a_denied_address(
    make_client: ClientFactory, address: str, reason: str
) -> None:
    assert (
        await refused(make_client, EgressPolicy(), "http://target.test:8080/", target=address)
        == reason
    )


@pytest.mark.parametrize("answer", [["100.63.255.254", "10.0.0.1"], ["10.0.0.1", "100.63.255.254"]])
async def test_every_resolved_address_is_checked(
    make_client: ClientFactory, answer: list[str]
) -> None:
    reason = await refused(make_client, EgressPolicy(), "http://mixed.test/", mixed=answer)
    assert reason == "address_denied:private"


async def test_rebinding_connects_to_the_checked_address(make_client: ClientFactory) -> None:
    resolver = FakeResolver({"rebind.test": [["100.63.255.254"], ["10.0.0.1"]]})
    client, raw = make_client(EgressPolicy(), resolver)
    async with client:
        # First answer public: the guard pins it, and the loopback-only raw backend proves the
        # socket was asked for exactly that address (and refuses to send a packet there).
        with pytest.raises(OffMachineConnect):
            await client.get("http://rebind.test:8080/")
        assert raw.attempts == [("100.63.255.254", 8080)]
        # The name now points inside: the next connection resolves again and is refused.
        with pytest.raises(EgressDenied) as caught:
            await client.get("http://rebind.test:8080/")
    assert caught.value.reason == "address_denied:private"
    assert raw.attempts == [("100.63.255.254", 8080)]
    assert resolver.calls == ["rebind.test", "rebind.test"]


async def test_rebinding_after_a_real_request(
    make_client: ClientFactory, server: TinyServer
) -> None:
    resolver = FakeResolver({"rebind.test": [["127.0.0.1"], ["169.254.169.254"]]})
    client, raw = make_client(LOOPBACK_OK, resolver)
    async with client:
        response = await client.get(server.url("/ok", host="rebind.test"))
        assert (response.status_code, response.text) == (200, "ok")
        with pytest.raises(EgressDenied) as caught:
            await client.get(server.url("/ok", host="rebind.test"))
    assert caught.value.reason == "metadata_address"
    assert raw.attempts == [("127.0.0.1", server.port)]


async def test_loopback_works_when_allowed(make_client: ClientFactory, server: TinyServer) -> None:
    client, raw = make_client(LOOPBACK_OK, FakeResolver.fixed(local="127.0.0.1"))
    async with client:
        direct = await client.get(server.url("/ok"))
        named = await client.get(server.url("/ok", host="local.test"))
    assert (direct.status_code, direct.text) == (200, "ok")
    assert (named.status_code, named.text) == (200, "ok")
    assert raw.attempts == [("127.0.0.1", server.port)] * 2


async def test_loopback_refused_by_default_sends_nothing(
    make_client: ClientFactory, server: TinyServer
) -> None:
    before = len(server.requests)
    policy = EgressPolicy()
    assert await refused(make_client, policy, server.url("/ok")) == "address_denied:loopback"
    assert (
        await refused(make_client, policy, server.url("/ok", host="local.test"), local="127.0.0.1")
        == "address_denied:loopback"
    )
    assert len(server.requests) == before


async def test_falls_back_to_the_next_checked_address(
    make_client: ClientFactory, server: TinyServer
) -> None:
    # The server listens on 127.0.0.1 only, so ::1 is refused and the next address is tried.
    client, raw = make_client(LOOPBACK_OK, FakeResolver.fixed(dual=["::1", "127.0.0.1"]))
    async with client:
        response = await client.get(server.url("/ok", host="dual.test"))
    assert response.status_code == 200
    assert raw.attempts == [("::1", server.port), ("127.0.0.1", server.port)]


@pytest.mark.parametrize("answer", [None, []])
async def test_resolution_failures(make_client: ClientFactory, answer: list[str] | None) -> None:
    names = {} if answer is None else {"empty": answer}
    host = "unknown.test" if answer is None else "empty.test"
    assert await refused(make_client, EgressPolicy(), f"http://{host}/", **names) == (
        "resolution_failed"
    )


async def test_a_stalled_resolver_is_bounded_by_the_connect_timeout() -> None:
    async def stalled(host: str, port: int) -> list[IPAddress]:
        await asyncio.Event().wait()  # never answers
        return []

    guard = ConnectGuard(EgressPolicy(), stalled)
    with pytest.raises(EgressDenied) as caught:
        await guard.addresses("slow.test", 443, resolve_within=0.01)
    assert caught.value.reason == "resolution_failed"


async def test_tls_verifies_the_url_host_not_the_pinned_address(
    make_client: ClientFactory, tls_server: TinyServer
) -> None:
    resolver = FakeResolver.fixed(mcp="127.0.0.1", wrong="127.0.0.1")
    client, raw = make_client(LOOPBACK_OK, resolver, verify=tls_server.client_tls)
    async with client:
        response = await client.get(tls_server.url("/ok", host="mcp.test"))
        assert (response.status_code, response.text) == (200, "ok")
        assert tls_server.sni[-1] == "mcp.test"
        # Same address, other name: the certificate (for mcp.test only) must not verify.
        with pytest.raises(CONNECT_ERRORS, match=r"CERTIFICATE_VERIFY_FAILED|match"):
            await client.get(tls_server.url("/ok", host="wrong.test"))
        with pytest.raises(CONNECT_ERRORS, match=r"CERTIFICATE_VERIFY_FAILED|match"):
            await client.get(tls_server.url("/ok"))
    assert {host for host, _port in raw.attempts} == {"127.0.0.1"}


def test_tls_verification_cannot_be_turned_off() -> None:
    lax = ssl.create_default_context()
    lax.check_hostname = False
    with pytest.raises(ValueError, match="verification"):
        build_async_client(LOOPBACK_OK, verify=lax)


async def test_allowlist_decides_on_resolved_addresses(
    make_client: ClientFactory, server: TinyServer
) -> None:
    hosts, networks = parse_allowlist(["127.0.0.1/32", "named.test"])
    policy = EgressPolicy(allow_loopback=True, allowlist_hosts=hosts, allowlist_networks=networks)
    resolver = FakeResolver.fixed(inside="127.0.0.1", outside="127.0.0.2", named="127.0.0.1")
    client, _raw = make_client(policy, resolver)
    async with client:
        assert (await client.get(server.url("/ok", host="inside.test"))).status_code == 200
        assert (await client.get(server.url("/ok", host="named.test"))).status_code == 200
        with pytest.raises(EgressDenied) as caught:
            await client.get(server.url("/ok", host="outside.test"))
    assert caught.value.reason == "not_in_allowlist"


async def test_allowlisted_name_still_obeys_the_deny_list(make_client: ClientFactory) -> None:
    hosts, networks = parse_allowlist(["mcp.test"])
    policy = EgressPolicy(allowlist_hosts=hosts, allowlist_networks=networks)
    assert await refused(make_client, policy, "https://mcp.test/", mcp="10.0.0.1") == (
        "address_denied:private"
    )


async def test_rate_limit_per_org(make_client: ClientFactory, server: TinyServer) -> None:
    def policy(org: str) -> EgressPolicy:
        return EgressPolicy(allow_loopback=True, org_id=org, rate_limit="2/minute")

    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    client, _raw = make_client(policy(first))
    async with client:
        for _ in range(2):
            assert (await client.get(server.url("/ok"))).status_code == 200
        with pytest.raises(EgressRateLimited) as caught:
            await client.get(server.url("/ok"))
    assert caught.value.reason == "rate_limited"
    assert int(caught.value.headers["Retry-After"]) >= 1
    other, _raw = make_client(policy(second))
    async with other:
        assert (await other.get(server.url("/ok"))).status_code == 200


async def test_the_backend_alone_refuses_without_the_transport_check() -> None:
    raw = LoopbackOnly2()
    backend = GuardedBackend(ConnectGuard(EgressPolicy(), FakeResolver({})), raw)
    for host, reason in [
        ("10.0.0.1", "address_denied:private"),
        ("2130706433", "address_denied:loopback"),
        ("::ffff:a9fe:a9fe", "metadata_address"),
        ("metadata.google.internal", "metadata_address"),
    ]:
        with pytest.raises(EgressDenied) as caught:
            await backend.connect_tcp(host, 80)
        assert caught.value.reason == reason
    with pytest.raises(EgressDenied) as caught:
        await backend.connect_tcp("mcp.test", 22)
    assert caught.value.reason == "port_denied"
    with pytest.raises(EgressDenied) as caught:
        await backend.connect_unix_socket("/run/docker.sock")
    assert caught.value.reason == "unix_socket_not_allowed"
    assert raw.attempts == []


async def test_guard_returns_checked_addresses_in_order() -> None:
    resolver = FakeResolver.fixed(mcp=["2606:4700:4700::1111", "100.63.255.254"])
    guard = ConnectGuard(EgressPolicy(), resolver)
    assert await guard.addresses("mcp.test", 443) == [
        ip_address("2606:4700:4700::1111"),
        ip_address("100.63.255.254"),
    ]
    allowlisted = ConnectGuard(
        EgressPolicy(allowlist_networks=(ip_network("100.63.0.0/16"),)), resolver
    )
    with pytest.raises(EgressDenied, match="allowlist"):
        await allowlisted.addresses("mcp.test", 443)


async def test_system_resolver_uses_the_event_loop() -> None:
    assert await system_resolver("127.0.0.1", 80) == [ip_address("127.0.0.1")]


async def test_mcp_client_factory_builds_guarded_clients(server: TinyServer) -> None:
    factory = mcp_client_factory(EgressPolicy(), network_backend=LoopbackOnly2())
    async with factory(headers={"X-Test": "1"}, timeout=httpx2.Timeout(5.0)) as client:
        assert client.headers["X-Test"] == "1"
        with pytest.raises(EgressDenied):
            await client.get(server.url("/ok"))


def sample(decision: str, reason: str) -> float:
    labels = {"decision": decision, "reason": reason}
    return REGISTRY.get_sample_value("sprintconnect_egress_decisions_total", labels) or 0.0


async def test_decisions_are_counted(make_client: ClientFactory, server: TinyServer) -> None:
    denied_before, allowed_before = sample("deny", "port_denied"), sample("allow", "allowed")
    client, _raw = make_client(LOOPBACK_OK)
    async with client:
        await client.get(server.url("/ok"))
        with pytest.raises(EgressDenied):
            await client.get("http://127.0.0.1:6379/")
    assert sample("deny", "port_denied") == denied_before + 1
    # One request decision and one connection decision.
    assert sample("allow", "allowed") == allowed_before + 2
