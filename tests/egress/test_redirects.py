"""Every redirect hop is checked again: a loopback server redirecting inward is refused."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from sprintconnect.egress import EgressDenied, EgressPolicy
from tests.egress.conftest import ClientFactory
from tests.egress.support import FakeResolver, TinyServer

# Loopback is open so that the fixture server can be reached; everything else stays closed.
POLICY = EgressPolicy(allow_loopback=True)
RESOLVER_NAMES = {"internal": "10.0.0.1", "meta": "169.254.169.254", "cgnat": "100.64.0.1"}

TARGETS = [
    ("http://10.0.0.1/admin", "address_denied:private"),
    ("http://192.168.1.1/", "address_denied:private"),
    ("http://169.254.169.254/latest/meta-data/", "metadata_address"),
    ("http://[fd00:ec2::254]/", "metadata_address"),
    ("http://[::ffff:a9fe:a9fe]/", "metadata_address"),
    ("http://2852039166/", "metadata_address"),
    ("http://a@127.0.0.1/", "userinfo_not_allowed"),
    ("http://127.0.0.1:6379/", "port_denied"),
    # Names pass the URL check and are refused when the hop's connection resolves them.
    ("http://internal.test/", "address_denied:private"),
    ("http://meta.test/latest/meta-data/", "metadata_address"),
    ("http://cgnat.test:8080/", "address_denied:cgnat"),
]


def redirect(server: TinyServer, code: int, to: str) -> str:
    return server.url(f"/redirect/{code}?to={quote(to, safe='')}")


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
@pytest.mark.parametrize(("target", "reason"), TARGETS)
async def test_redirect_inward_is_refused(
    make_client: ClientFactory, server: TinyServer, code: int, target: str, reason: str
) -> None:
    client, raw = make_client(POLICY, FakeResolver.fixed(**RESOLVER_NAMES), follow_redirects=True)
    async with client:
        with pytest.raises(EgressDenied) as caught:
            await client.get(redirect(server, code, target))
    assert caught.value.reason == reason
    # The only socket opened was to the fixture server, for the first hop.
    assert raw.attempts == [("127.0.0.1", server.port)]


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
async def test_redirect_hop_followed_by_hand_is_refused(
    make_client: ClientFactory, server: TinyServer, code: int
) -> None:
    # The MCP SDK follows redirects itself with send(follow_redirects=False), hop by hop.
    client, raw = make_client(POLICY, FakeResolver.fixed(**RESOLVER_NAMES))
    async with client:
        first = await client.get(redirect(server, code, "http://meta.test/"))
        assert first.status_code == code
        assert first.next_request is not None
        with pytest.raises(EgressDenied) as caught:
            await client.send(first.next_request)
    assert caught.value.reason == "metadata_address"
    assert raw.attempts == [("127.0.0.1", server.port)]


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
async def test_redirect_to_an_allowed_place_is_followed(
    make_client: ClientFactory, server: TinyServer, code: int
) -> None:
    client, _raw = make_client(POLICY, follow_redirects=True)
    async with client:
        response = await client.get(redirect(server, code, server.url("/ok")))
    assert (response.status_code, response.text) == (200, "ok")
    assert len(response.history) == 1
