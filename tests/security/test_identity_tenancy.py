"""Org B, with each kind of credential it can hold (API key, browser session + CSRF token,
client-credentials access token, DPoP-bound access token), attacks org A's service accounts,
identity provider, tokens and API keys: every answer is a 404 (or B's own view, or an inactive
introspection), and org A, re-read as itself, is unchanged."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from sprintconnect.runtime import Runtime
from tests.conftest import Tenant, TenantFactory, assert_problem
from tests.identity.session.conftest import Provider, SignInApp, sign_in
from tests.identity.tokens.support import access_token, bearer, client_token
from tests.security.identity_support import (
    KINDS,
    cli_grant,
    configure_admins,
    create_account,
    credential_of,
    identity_app,
    serve_provider,
    sign_in_admin,
)

SA = "/api/v1/service-accounts"
IDP = "/api/v1/organization/identity-provider"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    yield from serve_provider()


@pytest.fixture(scope="module")
def other_provider() -> Iterator[Provider]:
    yield from serve_provider()


@pytest.fixture
async def sapp(runtime: Runtime, database_url: str) -> AsyncIterator[SignInApp]:
    async with identity_app(runtime, database_url) as application:
        yield application


@pytest.mark.parametrize("kind", KINDS)
async def test_org_b_cannot_reach_org_a_by_any_credential(
    kind: str,
    sapp: SignInApp,
    make_tenant: TenantFactory,
    provider: Provider,
    other_provider: Provider,
) -> None:
    org_a: Tenant = await make_tenant()
    org_b: Tenant = await make_tenant()
    async with sapp.browser() as admin_a, sapp.browser() as browser_b:
        await configure_admins(admin_a, org_a, other_provider)
        await configure_admins(admin_a, org_b, provider)
        victim = await create_account(admin_a, org_a, ["viewer"], name="victim-bot")
        victim_token = await access_token(admin_a, victim)
        b = await credential_of(kind, browser_b, org_b, provider)
        # The credential works, and for org B.
        me = await b.request("GET", "/api/v1/me")
        assert me.status_code == 200, me.text
        assert me.json()["org_id"] == str(org_b.org_id)

        # Org A's service account: invisible and untouchable.
        one = f"{SA}/{victim.id}"
        assert_problem(await b.request("GET", one), 404)
        patched = await b.request(
            "PATCH", one, json={"name": "pwned", "roles": ["admin"], "disabled": True}
        )
        assert_problem(patched, 404)
        assert_problem(await b.request("POST", f"{one}/rotate-secret"), 404)
        assert_problem(await b.request("DELETE", one), 404)
        listed = await b.request("GET", SA)
        assert listed.status_code == 200, listed.text
        assert victim.id not in listed.text
        # Org A's admin, and org A's admin key.
        assert_problem(await b.request("GET", f"/api/v1/users/{org_a.user_id}"), 404)
        assert_problem(await b.request("GET", f"/api/v1/api-keys/{org_a.key_id}"), 404)
        assert_problem(await b.request("POST", f"/api/v1/api-keys/{org_a.key_id}/revoke"), 404)

        # The identity provider has no id in its path: B only ever reads and changes its own.
        got = await b.request("GET", IDP)
        assert got.status_code == 200, got.text
        assert got.json()["issuer"] == provider.issuer
        assert got.json()["client_id"] == f"sprintconnect-{org_b.slug}"
        put = await b.request(
            "PUT",
            IDP,
            json={
                "issuer": provider.issuer,
                "client_id": "hijack",
                "client_secret": "attacker-secret",
                "group_roles": {"sc-admins": ["admin"]},
            },
        )
        assert put.status_code == 200, put.text
        assert put.json()["client_id"] == "hijack"

        # Introspection of A's token and key: inactive; revocation of them: nothing happens.
        for token in (victim_token, org_a.key):
            looked = await b.request("POST", "/oauth/introspect", data={"token": token})
            if kind == "session":  # a cookie is no client authentication for RFC 7662/7009
                assert looked.status_code == 401, looked.text
                assert looked.json()["error"] == "invalid_client"
            else:
                assert looked.status_code == 200, looked.text
                assert looked.json() == {"active": False}
            revoked = await b.request("POST", "/oauth/revoke", data={"token": token})
            assert revoked.status_code in (200, 401), revoked.text
            assert "active" not in revoked.text

        deleted = await b.request("DELETE", IDP)
        assert deleted.status_code == 204, deleted.text
        assert_problem(await admin_a.get(IDP, headers=org_b.headers), 404)

        # Org A, re-read as itself: nothing changed.
        mine = await admin_a.get(one, headers=org_a.headers)
        assert mine.status_code == 200, mine.text
        assert mine.json()["name"] == "victim-bot"
        assert mine.json()["roles"] == ["viewer"]
        assert mine.json()["status"] == "active"
        # Its secret was not rotated, its token was not revoked.
        assert (await client_token(admin_a, victim)).status_code == 200
        still = await admin_a.get("/api/v1/me", headers=bearer(victim_token))
        assert still.status_code == 200, still.text
        assert still.json()["org_id"] == str(org_a.org_id)
        assert (await admin_a.get("/api/v1/me", headers=org_a.headers)).status_code == 200
        active = await admin_a.post(
            "/oauth/introspect", data={"token": victim_token}, headers=org_a.headers
        )
        assert active.json()["active"] is True
        key = await admin_a.get(f"/api/v1/api-keys/{org_a.key_id}", headers=org_a.headers)
        assert key.json()["status"] == "active"
        idp = await admin_a.get(IDP, headers=org_a.headers)
        assert idp.status_code == 200, idp.text
        assert idp.json()["issuer"] == other_provider.issuer
        assert idp.json()["client_id"] == f"sprintconnect-{org_a.slug}"


async def test_org_b_client_cannot_introspect_or_revoke_org_a_refresh_tokens(
    sapp: SignInApp, make_tenant: TenantFactory, provider: Provider
) -> None:
    """Introspection and revocation with org B's client authentication (client_secret_basic,
    client_secret_post) and with B's API key, on A's refresh token, access token and API key."""
    org_a, org_b = await make_tenant(), await make_tenant()
    async with sapp.browser() as api, sapp.browser() as browser_a:
        await configure_admins(api, org_a, provider)
        await sign_in_admin(browser_a, org_a, provider)
        grant = await cli_grant(sapp, browser_a)
        a_account = await create_account(api, org_a, ["viewer"])
        a_token = await access_token(api, a_account)
        b_admin = await create_account(api, org_b, ["admin"])
        basic = httpx.BasicAuth(b_admin.client_id, b_admin.secret)
        post = {"client_id": b_admin.client_id, "client_secret": b_admin.secret}
        targets = (grant["refresh_token"], grant["access_token"], a_token, org_a.key)
        for token in targets:
            for kwargs in (
                {"auth": basic, "data": {"token": token}},
                {"data": {"token": token, **post}},
                {"headers": org_b.headers, "data": {"token": token}},
            ):
                looked = await api.post("/oauth/introspect", **kwargs)
                assert looked.status_code == 200, looked.text
                assert looked.json() == {"active": False}
                revoked = await api.post("/oauth/revoke", **kwargs)
                assert revoked.status_code in (200, 403), revoked.text
        # All of A's are alive: the refresh token rotates, the tokens and the key work.
        for token in targets:
            seen = await api.post("/oauth/introspect", data={"token": token}, headers=org_a.headers)
            assert seen.json()["active"] is True, token[:6]
        rotated = await api.post(
            "/oauth/token",
            data={
                "grant_type": "refresh_token",
                "client_id": "sprintconnect-cli",
                "refresh_token": grant["refresh_token"],
            },
        )
        assert rotated.status_code == 200, rotated.text
        assert (await api.get("/api/v1/me", headers=bearer(a_token))).status_code == 200
        assert (await api.get("/api/v1/me", headers=org_a.headers)).status_code == 200


async def test_org_b_provider_cannot_claim_org_a_users(
    sapp: SignInApp, make_tenant: TenantFactory, provider: Provider
) -> None:
    """Org B's administrator controls B's identity provider, and makes it assert the email of
    org A's admin: the sign-in into B is refused, A's user is not touched or joined to B."""
    org_a, org_b = await make_tenant(), await make_tenant()
    async with sapp.browser() as api, sapp.browser() as browser_b:
        before = await api.get(f"/api/v1/users/{org_a.user_id}", headers=org_a.headers)
        assert before.status_code == 200, before.text
        email = before.json()["email"]
        await configure_admins(api, org_b, provider)
        provider.put_user(
            f"evil-{org_a.slug}", {"email": email, "name": "Hijacked", "groups": ["sc-admins"]}
        )
        flow = await sign_in(browser_b, org_b.slug, f"evil-{org_a.slug}")
        assert flow.done.status_code >= 400, flow.done.text
        assert_problem(await browser_b.get("/api/v1/me"), 401)
        after = await api.get(f"/api/v1/users/{org_a.user_id}", headers=org_a.headers)
        assert after.json() == before.json()
        members = await api.get("/api/v1/users", headers=org_b.headers)
        assert email not in members.text
        assert str(org_a.user_id) not in members.text
