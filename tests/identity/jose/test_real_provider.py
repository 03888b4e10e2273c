"""Tokens of a real OIDC provider (``oidc-provider-mock`` on loopback): its key set, fetched
through the egress guard, verifies its ID tokens, and an ID token is no access token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from oidc_provider_mock import run_server_in_thread

from sprintconnect.egress import EgressPolicy
from sprintconnect.identity.jose import (
    Expectations,
    JwksCache,
    TokenRejected,
    fetch_json,
    peek,
    verify_jwt,
)
from tests.fixtures.offline import refuse_off_machine

# The provider is built on Authlib APIs that Authlib itself deprecates; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib.*")

CLIENT_ID = "sprintconnect-test"
REDIRECT = "http://127.0.0.1:9/callback"
LOOPBACK = EgressPolicy(allow_loopback=True)


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with run_server_in_thread() as server:  # it binds "localhost": start it first
        refuse_off_machine(monkeypatch)
        yield f"http://127.0.0.1:{server.server_port}"


def id_token(issuer: str, nonce: str) -> str:
    """Walk the code flow as a browser would (the provider's form, then the token endpoint)."""
    with httpx.Client(base_url=issuer, follow_redirects=False) as http:
        params = {
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "scope": "openid email",
            "nonce": nonce,
            "state": "s1",
        }
        answer = http.post("/oauth2/authorize", params=params, data={"sub": "alice@example.com"})
        assert answer.status_code == 302, answer.text
        code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
        tokens = http.post(
            "/oauth2/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
            auth=(CLIENT_ID, "any-secret"),
        )
        assert tokens.status_code == 200, tokens.text
        return str(tokens.json()["id_token"])


async def test_id_token_of_a_real_provider(provider: str) -> None:
    metadata = await fetch_json(provider + "/.well-known/openid-configuration", LOOPBACK)
    assert metadata["issuer"] == provider
    cache = JwksCache(lambda: fetch_json(metadata["jwks_uri"], LOOPBACK), ttl_seconds=300)
    token = id_token(provider, "n-123")
    header, _ = peek(token)
    expect = Expectations(
        issuer=provider,
        audiences=frozenset({CLIENT_ID}),
        token_types=frozenset({"jwt", ""}),
        required_claims=frozenset({"iss", "aud", "exp", "iat", "sub", "nonce"}),
    )
    claims = await verify_jwt(token, cache, expect, now=datetime.now(UTC))
    assert claims["sub"] == "alice@example.com"
    assert claims["nonce"] == "n-123"
    assert header["alg"] == "RS256"

    as_access_token = Expectations(
        issuer=provider, audiences=frozenset({CLIENT_ID}), token_types=frozenset({"at+jwt"})
    )
    with pytest.raises(TokenRejected) as info:
        await verify_jwt(token, cache, as_access_token, now=datetime.now(UTC))
    assert info.value.reason == "type"

    other_issuer = Expectations(
        issuer=provider + "/", audiences=frozenset({CLIENT_ID}), token_types=frozenset({"jwt"})
    )
    with pytest.raises(TokenRejected) as info:
        await verify_jwt(token, cache, other_issuer, now=datetime.now(UTC))
    assert info.value.reason == "issuer"
    await cache.aclose()
