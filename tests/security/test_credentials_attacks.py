"""What a hostile reviewer tries against sign-in, sessions and tokens: edited token claims,
session fixation and cookie misuse, privilege escalation through service accounts, refresh
tokens of another organization, and secrets leaking into answers or logs. Real PostgreSQL,
Redis and OIDC provider; nothing of ours is mocked."""

from __future__ import annotations

import base64
import json
import logging
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import structlog
from joserfc import jwt
from joserfc.jwk import ECKey

from sprintconnect.runtime import Runtime
from tests.conftest import Tenant, TenantFactory, assert_problem
from tests.identity.session.conftest import BASE, Provider, SignInApp, sign_in
from tests.identity.tokens.support import (
    DpopKey,
    access_token,
    bearer,
    claims_of,
    client_token,
    header_of,
)
from tests.security.identity_support import (
    ADMIN_GROUP,
    cli_grant,
    configure_admins,
    create_account,
    identity_app,
    serve_provider,
    sign_in_admin,
)

SA = "/api/v1/service-accounts"
REDIRECT = "http://127.0.0.1:53682/callback"
# Documented names (docs/sign-in.md, docs/tokens.md), spelled out: modules are being split.
CLI_CLIENT_ID = "sprintconnect-cli"
SESSION_COOKIE = "__Host-sc_session"  # the public URL is https


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    yield from serve_provider()


@pytest.fixture
async def sapp(runtime: Runtime, database_url: str) -> AsyncIterator[SignInApp]:
    async with identity_app(runtime, database_url) as application:
        yield application


@pytest.fixture
async def api(sapp: SignInApp) -> AsyncIterator[httpx.AsyncClient]:
    """A client without a browser session (API keys, tokens)."""
    async with sapp.browser() as client:
        yield client


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def session_value(app: SignInApp, browser: httpx.AsyncClient) -> str:
    assert app.runtime.settings.base_url.startswith("https://")
    value = browser.cookies.get(SESSION_COOKIE)
    assert value, "the browser holds no session cookie"
    return value


# --- edited token claims ----------------------------------------------------------------------


async def test_a_token_edited_to_another_org_is_refused(
    api: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    org_a, org_b = await make_tenant(), await make_tenant()
    victim = await create_account(api, org_a, ["viewer"])
    attacker = await create_account(api, org_b, ["admin"])
    token = await access_token(api, attacker)
    head, _body, signature = token.split(".")
    claims = claims_of(token)
    assert claims["org"] == str(org_b.org_id)
    edited = {**claims, "org": str(org_a.org_id)}
    edited_body = b64(json.dumps(edited).encode())

    # 1. The genuine signature over the edited claims.
    same_signature = f"{head}.{edited_body}.{signature}"
    # 2. No signature at all (alg none).
    none_head = b64(json.dumps({**header_of(token), "alg": "none"}).encode())
    unsigned = f"{none_head}.{edited_body}."
    # 3. Re-signed with the attacker's key under the real key's kid, and with the key embedded.
    other = ECKey.generate_key("P-256", private=True)
    resigned = jwt.encode(header_of(token), edited, other)
    embedded = jwt.encode({**header_of(token), "jwk": other.as_dict(private=False)}, edited, other)
    # 4. HS256 keyed with the published public key (algorithm confusion).
    jwks = (await api.get("/.well-known/jwks.json")).json()
    public = json.dumps(jwks["keys"][0]).encode()
    from joserfc.jwk import OctKey

    confused = jwt.encode(
        {"alg": "HS256", "typ": "at+jwt", "kid": header_of(token)["kid"]},
        edited,
        OctKey.import_key(public),
        algorithms=["HS256"],
    )
    for forged in (same_signature, unsigned, resigned, embedded, confused):
        for path in ("/api/v1/me", f"{SA}/{victim.id}"):
            answer = await api.get(path, headers=bearer(forged))
            assert_problem(answer, 401, "invalid-token")
            assert str(org_a.org_id) not in answer.text

    # The genuine token of org B on org A's object: 404, and A's account is as it was.
    assert_problem(await api.get(f"{SA}/{victim.id}", headers=bearer(token)), 404)
    assert_problem(
        await api.patch(f"{SA}/{victim.id}", json={"roles": ["admin"]}, headers=bearer(token)),
        404,
    )
    kept = await api.get(f"{SA}/{victim.id}", headers=org_a.headers)
    assert kept.json()["roles"] == ["viewer"]


async def test_a_dpop_token_edited_to_another_org_is_refused(
    api: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    org_a, org_b = await make_tenant(), await make_tenant()
    attacker = await create_account(api, org_b, ["admin"])
    key = DpopKey()
    issued = await client_token(
        api, attacker, headers={"DPoP": key.proof("POST", BASE + "/oauth/token")}
    )
    assert issued.status_code == 200, issued.text
    token = issued.json()["access_token"]
    head, _, signature = token.split(".")
    edited = b64(json.dumps({**claims_of(token), "org": str(org_a.org_id)}).encode())
    forged = f"{head}.{edited}.{signature}"
    proof = key.proof("GET", BASE + "/api/v1/me", access_token=forged)
    answer = await api.get("/api/v1/me", headers={"Authorization": f"DPoP {forged}", "DPoP": proof})
    assert_problem(answer, 401)
    assert answer.headers["www-authenticate"].startswith("DPoP ")


# --- session fixation and cookie misuse -------------------------------------------------------


async def test_a_cookie_planted_before_sign_in_never_becomes_a_session(
    sapp: SignInApp, tenant: Tenant, provider: Provider
) -> None:
    planted = secrets.token_urlsafe(32)
    async with sapp.browser() as browser, sapp.browser() as attacker:
        await configure_admins(browser, tenant, provider)
        # Planted where the app's own cookie lives (host-only ``testserver``, which the
        # cookie jar files as ``testserver.local``), so that the app's Set-Cookie replaces it.
        browser.cookies.set(SESSION_COOKIE, planted, domain="testserver.local")
        assert_problem(await browser.get("/api/v1/me"), 401)
        await sign_in_admin(browser, tenant, provider)
        held = [c.value for c in browser.cookies.jar if c.name == SESSION_COOKIE]
        assert len(held) == 1, held
        issued = held[0]
        assert issued not in (planted, None)
        assert (await browser.get("/api/v1/me")).status_code == 200
        # The attacker, holding only the value they planted, has nothing.
        attacker.cookies.set(SESSION_COOKIE, planted, domain="testserver.local")
        assert_problem(await attacker.get("/api/v1/me"), 401)
        assert_problem(await attacker.get("/auth/session"), 401)
        # Signing in again (same browser) issues a new value as well.
        await sign_in_admin(browser, tenant, provider)
        assert session_value(sapp, browser) not in (issued, planted)


async def test_an_attackers_callback_does_not_sign_the_victim_in(
    sapp: SignInApp, tenant: Tenant, provider: Provider
) -> None:
    """Login CSRF: the attacker walks the provider's part as themself and hands the victim the
    callback URL (code + state); the state is bound to the attacker's browser."""
    attacker_email = f"mallory-{uuid.uuid4().hex[:8]}@example.com"
    provider.put_user(attacker_email, {"email": attacker_email, "groups": [ADMIN_GROUP]})
    async with sapp.browser() as attacker, sapp.browser() as victim:
        await configure_admins(attacker, tenant, provider)
        login = await attacker.get("/auth/login", params={"org": tenant.slug})
        authorize_url = login.headers["location"]
        assert (await attacker.get(authorize_url)).status_code == 200
        chosen = await attacker.post(authorize_url, data={"sub": attacker_email})
        callback_url = chosen.headers["location"]
        landed = await victim.get(callback_url)
        assert landed.status_code >= 400, landed.text
        assert not [c for c in victim.cookies.jar if c.name == SESSION_COOKIE and c.value]
        assert_problem(await victim.get("/api/v1/me"), 401)
        assert "Sign-in failed" in landed.text
        # The state is single-use: the failed attempt spent it, even for the attacker.
        mine = await attacker.get(callback_url)
        assert mine.status_code == 400, mine.text
        assert not [c for c in attacker.cookies.jar if c.name == SESSION_COOKIE and c.value]


async def test_one_accounts_secret_never_opens_another_account(
    api: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    org_a, org_b = await make_tenant(), await make_tenant()
    victim = await create_account(api, org_a, ["admin"])
    attacker = await create_account(api, org_b, ["admin"])
    for client_id, secret in (
        (victim.client_id, attacker.secret),
        (attacker.client_id, victim.secret[:-1]),
        (victim.client_id, ""),
        (victim.client_id.upper(), victim.secret),
    ):
        answer = await api.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=httpx.BasicAuth(client_id, secret),
        )
        assert answer.status_code in (400, 401), answer.text
        assert answer.json()["error"] in ("invalid_client", "invalid_request")
        assert "access_token" not in answer.text
    # The victim's own secret still works: nothing was locked or rotated.
    assert (await client_token(api, victim)).status_code == 200


async def test_csrf_token_of_another_orgs_session_is_refused(
    sapp: SignInApp, make_tenant: TenantFactory, provider: Provider
) -> None:
    org_a, org_b = await make_tenant(), await make_tenant()
    async with sapp.browser() as browser_a, sapp.browser() as browser_b:
        await configure_admins(browser_a, org_a, provider)
        await configure_admins(browser_a, org_b, provider)
        csrf_a = await sign_in_admin(browser_a, org_a, provider)
        csrf_b = await sign_in_admin(browser_b, org_b, provider)
        assert csrf_a != csrf_b
        body = {"name": "csrf-probe", "scopes": ["read"]}
        for browser, foreign in ((browser_a, csrf_b), (browser_b, csrf_a)):
            refused = await browser.post(
                "/api/v1/api-keys", json=body, headers={"X-CSRF-Token": foreign}
            )
            assert_problem(refused, 403)
            assert_problem(await browser.post("/api/v1/api-keys", json=body), 403)
            ended = await browser.post("/auth/logout", headers={"X-CSRF-Token": foreign})
            assert_problem(ended, 403)
            # Nothing was created, and the session lives on.
            listed = await browser.get("/api/v1/api-keys")
            assert listed.status_code == 200, listed.text
            assert "csrf-probe" not in listed.text
        # A request marked cross-site is refused even with the right token.
        cross = await browser_a.post(
            "/api/v1/api-keys",
            json=body,
            headers={"X-CSRF-Token": csrf_a, "Origin": "https://evil.example"},
        )
        assert_problem(cross, 403)
        ok = await browser_a.post("/api/v1/api-keys", json=body, headers={"X-CSRF-Token": csrf_a})
        assert ok.status_code == 201, ok.text


async def test_logout_ends_only_that_browsers_session(
    sapp: SignInApp, tenant: Tenant, provider: Provider
) -> None:
    email = f"twice-{uuid.uuid4().hex[:8]}@example.com"
    async with sapp.browser() as laptop, sapp.browser() as phone:
        await configure_admins(laptop, tenant, provider)
        csrf = await sign_in_admin(laptop, tenant, provider, email)
        await sign_in_admin(phone, tenant, provider, email)
        me_laptop = (await laptop.get("/api/v1/me")).json()
        me_phone = (await phone.get("/api/v1/me")).json()
        assert me_laptop["user_id"] == me_phone["user_id"]
        out = await laptop.post("/auth/logout", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 200, out.text
        assert_problem(await laptop.get("/api/v1/me"), 401)
        assert (await phone.get("/api/v1/me")).status_code == 200


async def test_a_session_cookie_is_no_bearer_token(
    sapp: SignInApp, tenant: Tenant, provider: Provider
) -> None:
    async with sapp.browser() as browser, sapp.browser() as thief:
        await configure_admins(browser, tenant, provider)
        await sign_in_admin(browser, tenant, provider)
        value = session_value(sapp, browser)
        for header in (f"Bearer {value}", f"DPoP {value}", f"Bearer sc_{value}"):
            answer = await thief.get("/api/v1/me", headers={"Authorization": header})
            assert_problem(answer, 401)
        # A bad Authorization header is not rescued by a good cookie.
        mixed = await browser.get("/api/v1/me", headers={"Authorization": "Bearer nope.nope.nope"})
        assert_problem(mixed, 401)
        # Introspected by an admin of its own org, a cookie is no token.
        inspected = await thief.post(
            "/oauth/introspect", data={"token": value}, headers=tenant.headers
        )
        assert inspected.json() == {"active": False}
        # Nor does the cookie authorize the token endpoint's client checks.
        looked = await browser.post("/oauth/introspect", data={"token": value})
        assert looked.status_code == 401
        assert looked.json()["error"] == "invalid_client"


# --- service account privilege ----------------------------------------------------------------


async def _manager_role(api: httpx.AsyncClient, tenant: Tenant) -> str:
    role = {
        "name": f"bots-{uuid.uuid4().hex[:6]}",
        "permissions": ["service_accounts:read", "service_accounts:write"],
        "extends": ["viewer"],
    }
    made = await api.post("/api/v1/roles", json=role, headers=tenant.headers)
    assert made.is_success, made.text
    return str(role["name"])


async def test_no_service_account_above_the_creators_grant(
    sapp: SignInApp, api: httpx.AsyncClient, tenant: Tenant, provider: Provider
) -> None:
    manager = await _manager_role(api, tenant)
    viewer_bot = await create_account(api, tenant, ["viewer"])
    answer = await api.put(
        "/api/v1/organization/identity-provider",
        json={
            "issuer": provider.issuer,
            "client_id": f"sprintconnect-{tenant.slug}",
            "client_secret": "s3cret-value",
            "group_roles": {"bot-managers": [manager]},
        },
        headers=tenant.headers,
    )
    assert answer.status_code == 200, answer.text
    manager_bot = await create_account(api, tenant, [manager])
    token = await access_token(api, manager_bot)

    async with sapp.browser() as browser:
        email = f"mgr-{uuid.uuid4().hex[:8]}@example.com"
        provider.put_user(email, {"email": email, "groups": ["bot-managers"]})
        assert (await sign_in(browser, tenant.slug, email)).done.status_code == 302
        csrf = (await browser.get("/auth/session")).json()["csrf_token"]
        roles = (await browser.get("/api/v1/me")).json()["roles"]
        assert manager in roles
        assert "admin" not in roles

        as_session = {"client": browser, "headers": {"X-CSRF-Token": csrf}}
        as_token = {"client": api, "headers": bearer(token)}
        for who in (as_session, as_token):
            client: httpx.AsyncClient = who["client"]  # type: ignore[assignment]
            headers: dict[str, str] = who["headers"]  # type: ignore[assignment]
            above = await client.post(
                SA,
                json={"name": f"root-{uuid.uuid4().hex[:6]}", "roles": ["admin"]},
                headers=headers,
            )
            assert_problem(above, 403, "grant-above-granter")
            raised = await client.patch(
                f"{SA}/{viewer_bot.id}", json={"roles": ["admin"]}, headers=headers
            )
            assert_problem(raised, 403, "grant-above-granter")
            engineer = await client.post(
                SA,
                json={"name": f"eng-{uuid.uuid4().hex[:6]}", "roles": ["engineer"]},
                headers=headers,
            )
            assert_problem(engineer, 403, "grant-above-granter")
        # The manager account cannot raise itself either.
        itself = await api.patch(
            f"{SA}/{manager_bot.id}", json={"roles": [manager, "admin"]}, headers=bearer(token)
        )
        assert_problem(itself, 403, "grant-above-granter")
        within = await api.post(
            SA,
            json={"name": f"view-{uuid.uuid4().hex[:6]}", "roles": ["viewer"]},
            headers=bearer(token),
        )
        assert within.status_code == 201, within.text
    kept = await api.get(f"{SA}/{viewer_bot.id}", headers=tenant.headers)
    assert kept.json()["roles"] == ["viewer"]
    me = await api.get(f"{SA}/{manager_bot.id}", headers=tenant.headers)
    assert me.json()["roles"] == [manager]
    again = await api.get("/api/v1/me", headers=bearer(await access_token(api, manager_bot)))
    assert "admin" not in again.json()["roles"]
    assert "users:write" not in again.json()["permissions"]


async def test_a_service_account_token_stays_within_its_roles(
    api: httpx.AsyncClient, tenant: Tenant
) -> None:
    viewer = await create_account(api, tenant, ["viewer"])
    engineer = await create_account(api, tenant, ["engineer"])
    v_token = await access_token(api, viewer)
    e_token = await access_token(api, engineer)
    new_account = {"name": f"x-{uuid.uuid4().hex[:6]}", "roles": ["viewer"]}
    for token in (v_token, e_token):
        assert_problem(await api.post(SA, json=new_account, headers=bearer(token)), 403)
    # A viewer holds no api_keys:write: no key for itself or anyone.
    key = {"name": "escape", "scopes": ["read"]}
    assert_problem(await api.post("/api/v1/api-keys", json=key, headers=bearer(v_token)), 403)
    assert_problem(
        await api.post(
            f"/api/v1/users/{viewer.user_id}/api-keys", json=key, headers=bearer(v_token)
        ),
        403,
    )
    # An engineer may make a key for itself; whatever scopes it names (even `admin`), the
    # key reaches no further than the account's roles. Never a key for another member.
    assert_problem(
        await api.post(
            f"/api/v1/users/{tenant.user_id}/api-keys", json=key, headers=bearer(e_token)
        ),
        403,
    )
    minted = await api.post(
        "/api/v1/api-keys", json={"name": "wide", "scopes": ["admin"]}, headers=bearer(e_token)
    )
    assert minted.status_code == 201, minted.text
    wide = bearer(minted.json()["key"])
    assert_problem(await api.post(SA, json=new_account, headers=wide), 403)
    new_email = f"x-{uuid.uuid4().hex[:6]}@example.com"
    member = {"email": new_email, "roles": ["admin"]}
    assert_problem(await api.post("/api/v1/users", json=member, headers=wide), 403)
    assert_problem(
        await api.put(f"/api/v1/users/{engineer.user_id}/roles/admin", headers=wide), 403
    )
    assert (await api.get("/api/v1/me", headers=wide)).json()["roles"] == ["engineer"]
    # A token narrowed to `read` cannot write even what its roles allow.
    narrowed = await access_token(api, engineer, scope="read")
    assert_problem(await api.post("/api/v1/api-keys", json=key, headers=bearer(narrowed)), 403)
    keys = await api.get("/api/v1/api-keys", headers=tenant.headers)
    assert "escape" not in keys.text
    users = await api.get("/api/v1/users", headers=tenant.headers)
    assert new_email not in users.text


@pytest.mark.parametrize(
    ("action", "issuer"),
    [
        ("disable", "itself"),
        ("disable", "admin"),
        ("delete", "itself"),
        ("delete", "admin"),
    ],
)
async def test_an_api_key_of_a_service_account_dies_with_the_account(
    api: httpx.AsyncClient, tenant: Tenant, action: str, issuer: str
) -> None:
    """A service account's user holds a long-lived API key (minted by the account itself,
    which holds api_keys:write, or issued to it by an admin); disabling or deleting the
    account must not leave that key working."""
    engineer = await create_account(api, tenant, ["engineer"])
    token = await access_token(api, engineer)
    body = {"name": "persist", "scopes": ["read"]}
    if issuer == "itself":
        minted = await api.post("/api/v1/api-keys", json=body, headers=bearer(token))
    else:
        minted = await api.post(
            f"/api/v1/users/{engineer.user_id}/api-keys", json=body, headers=tenant.headers
        )
    assert minted.status_code == 201, minted.text
    key = bearer(minted.json()["key"])
    assert (await api.get("/api/v1/me", headers=key)).status_code == 200
    if action == "disable":
        off = await api.patch(
            f"{SA}/{engineer.id}", json={"disabled": True}, headers=tenant.headers
        )
        assert off.status_code == 200, off.text
    else:
        gone = await api.delete(f"{SA}/{engineer.id}", headers=tenant.headers)
        assert gone.status_code == 204, gone.text
    assert_problem(await api.get("/api/v1/me", headers=bearer(token)), 401)
    assert_problem(await api.get("/api/v1/me", headers=key), 401)


async def test_a_disabled_or_deleted_accounts_live_tokens_are_refused(
    api: httpx.AsyncClient, tenant: Tenant
) -> None:
    account = await create_account(api, tenant, ["viewer"])
    token = await access_token(api, account)
    key = DpopKey()
    issued = await client_token(
        api, account, headers={"DPoP": key.proof("POST", BASE + "/oauth/token")}
    )
    dpop_token = issued.json()["access_token"]

    def dpop() -> dict[str, str]:
        proof = key.proof("GET", BASE + "/api/v1/me", access_token=dpop_token)
        return {"Authorization": f"DPoP {dpop_token}", "DPoP": proof}

    assert (await api.get("/api/v1/me", headers=bearer(token))).status_code == 200
    assert (await api.get("/api/v1/me", headers=dpop())).status_code == 200
    off = await api.patch(f"{SA}/{account.id}", json={"disabled": True}, headers=tenant.headers)
    assert off.status_code == 200, off.text
    assert_problem(await api.get("/api/v1/me", headers=bearer(token)), 401)
    assert_problem(await api.get("/api/v1/me", headers=dpop()), 401)
    assert (await client_token(api, account)).json()["error"] == "invalid_client"
    looked = await api.post("/oauth/introspect", data={"token": token}, headers=tenant.headers)
    assert looked.json() == {"active": False}

    other = await create_account(api, tenant, ["viewer"])
    other_token = await access_token(api, other)
    gone = await api.delete(f"{SA}/{other.id}", headers=tenant.headers)
    assert gone.status_code == 204, gone.text
    assert_problem(await api.get("/api/v1/me", headers=bearer(other_token)), 401)


# --- refresh tokens across organizations ------------------------------------------------------


async def _refresh(
    client: httpx.AsyncClient,
    token: str,
    *,
    auth: httpx.BasicAuth | None = None,
    dpop: DpopKey | None = None,
) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": token}
    if auth is None:
        form["client_id"] = CLI_CLIENT_ID
    headers = {} if dpop is None else {"DPoP": dpop.proof("POST", BASE + "/oauth/token")}
    if auth is not None:
        return await client.post("/oauth/token", data=form, auth=auth, headers=headers)
    return await client.post("/oauth/token", data=form, headers=headers)


async def test_another_orgs_refresh_token_gets_nothing_and_revokes_nothing(
    sapp: SignInApp, api: httpx.AsyncClient, make_tenant: TenantFactory, provider: Provider
) -> None:
    org_a, org_b = await make_tenant(), await make_tenant()
    async with sapp.browser() as browser_a, sapp.browser() as browser_b:
        await configure_admins(api, org_a, provider)
        await configure_admins(api, org_b, provider)
        await sign_in_admin(browser_a, org_a, provider)
        await sign_in_admin(browser_b, org_b, provider)
        key_a = DpopKey()
        a_plain = await cli_grant(sapp, browser_a)
        a_bound = await cli_grant(sapp, browser_a, key_a)
        b_grant = await cli_grant(sapp, browser_b)
        assert claims_of(a_plain["access_token"])["org"] == str(org_a.org_id)
        b_account = await create_account(api, org_b, ["admin"])
        b_auth = httpx.BasicAuth(b_account.client_id, b_account.secret)
        b_key = DpopKey()

        # Org B's own confidential client presenting A's refresh tokens: refused.
        for grant in (a_plain, a_bound):
            as_b = await _refresh(api, grant["refresh_token"], auth=b_auth)
            assert as_b.status_code in (400, 401), as_b.text
            assert as_b.json()["error"] in ("invalid_grant", "unauthorized_client")
            assert "access_token" not in as_b.text
        # A's DPoP-bound refresh token with B's DPoP key (or none): refused.
        for dpop in (b_key, None):
            stolen = await _refresh(api, a_bound["refresh_token"], dpop=dpop)
            assert stolen.status_code == 400, stolen.text
            assert stolen.json()["error"] in ("invalid_grant", "invalid_dpop_proof")
        # B's refresh token narrowed or widened into A's org is not a thing: the org is the
        # token's, and B's token still names B.
        b_next = await _refresh(api, b_grant["refresh_token"])
        assert b_next.status_code == 200, b_next.text
        assert claims_of(b_next.json()["access_token"])["org"] == str(org_b.org_id)

        # A's refresh token is no access token, on any path.
        for token in (a_plain["refresh_token"], a_bound["refresh_token"]):
            assert_problem(await api.get("/api/v1/me", headers=bearer(token)), 401)
        wrong_grant = await _refresh(api, a_plain["access_token"])
        assert wrong_grant.json()["error"] == "invalid_grant"
        # None of that revoked A's families: A rotates both.
        a_plain_next = await _refresh(api, a_plain["refresh_token"])
        assert a_plain_next.status_code == 200, a_plain_next.text
        a_bound_next = await _refresh(api, a_bound["refresh_token"], dpop=key_a)
        assert a_bound_next.status_code == 200, a_bound_next.text
        assert claims_of(a_bound_next.json()["access_token"])["cnf"] == {"jkt": key_a.jkt}

        # A's own reuse of a rotated token revokes A's family, and only A's.
        reused = await _refresh(api, a_plain["refresh_token"])
        assert reused.json()["error"] == "invalid_grant"
        assert (await _refresh(api, a_plain_next.json()["refresh_token"])).status_code == 400
        assert (await _refresh(api, b_next.json()["refresh_token"])).status_code == 200
        again = await _refresh(api, a_bound_next.json()["refresh_token"], dpop=key_a)
        assert again.status_code == 200, again.text
        # And A's own reuse of its rotated DPoP-bound token, with A's key, revokes that family.
        bound_reuse = await _refresh(api, a_bound["refresh_token"], dpop=key_a)
        assert bound_reuse.json()["error"] == "invalid_grant"
        after = await _refresh(api, again.json()["refresh_token"], dpop=key_a)
        assert after.status_code == 400, after.text
        assert (await _refresh(api, b_next.json()["refresh_token"])).status_code == 400  # used


async def test_a_stale_dpop_bound_refresh_token_without_its_key_revokes_nothing(
    sapp: SignInApp, api: httpx.AsyncClient, make_tenant: TenantFactory, provider: Provider
) -> None:
    org_a, org_b = await make_tenant(), await make_tenant()
    async with sapp.browser() as browser_a:
        await configure_admins(api, org_a, provider)
        await sign_in_admin(browser_a, org_a, provider)
        key_a, key_b = DpopKey(), DpopKey()
        grant = await cli_grant(sapp, browser_a, key_a)
        rotated = await _refresh(api, grant["refresh_token"], dpop=key_a)
        assert rotated.status_code == 200, rotated.text
        # Org B got hold of A's first (now rotated) refresh token, but not A's key.
        b_account = await create_account(api, org_b, ["admin"])
        b_auth = httpx.BasicAuth(b_account.client_id, b_account.secret)
        for attempt in (
            await _refresh(api, grant["refresh_token"], auth=b_auth),
            await _refresh(api, grant["refresh_token"], dpop=key_b),
            await _refresh(api, grant["refresh_token"]),
        ):
            assert attempt.status_code in (400, 401), attempt.text
            assert "access_token" not in attempt.text
        # A's grant is A's to lose: its current refresh token still works.
        mine = await _refresh(api, rotated.json()["refresh_token"], dpop=key_a)
        assert mine.status_code == 200, mine.text


# --- error hygiene ----------------------------------------------------------------------------


async def test_no_secret_in_any_answer_or_log_line(
    sapp: SignInApp,
    api: httpx.AsyncClient,
    tenant: Tenant,
    provider: Provider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[httpx.Response] = []
    secrets_out: list[str] = ["s3cret-value"]

    async def keep(response: httpx.Response) -> None:
        await response.aread()
        seen.append(response)

    with structlog.testing.capture_logs() as logs:
        async with sapp.browser() as browser:
            browser.event_hooks["response"].append(keep)
            api.event_hooks["response"].append(keep)
            await configure_admins(api, tenant, provider)
            flow_email = f"clean-{uuid.uuid4().hex[:8]}@example.com"
            provider.put_user(flow_email, {"email": flow_email, "groups": [ADMIN_GROUP]})
            flow = await sign_in(browser, tenant.slug, flow_email)
            assert flow.done.status_code == 302
            code = parse_qs(urlsplit(flow.callback_url).query)["code"][0]
            secrets_out.append(code)
            cookie = session_value(sapp, browser)
            secrets_out.append(cookie)
            csrf = (await browser.get("/auth/session")).json()["csrf_token"]
            # The authorization code replayed, and a tampered state: failures are logged.
            await browser.get(flow.callback_url)
            await browser.get(flow.callback_url.replace("state=", "state=x"))

            account = await create_account(api, tenant, ["admin"])
            secrets_out.append(account.secret)
            token = await access_token(api, account)
            secrets_out.append(token)
            # A wrong secret, a right secret with a typo, a secret in the wrong place.
            await client_token(api, replace(account, secret=account.secret + "x"))
            await api.post(
                "/oauth/token",
                data={"grant_type": "client_credentials", "client_secret": account.secret},
            )
            grant = await cli_grant(sapp, browser)
            secrets_out += [grant["refresh_token"], grant["access_token"]]
            first = await _refresh(api, grant["refresh_token"])
            secrets_out += [first.json()["refresh_token"], first.json()["access_token"]]
            # Reuse (family revoked, alert logged), introspection, revocation, bad tokens.
            await _refresh(api, grant["refresh_token"])
            await api.post(
                "/oauth/introspect",
                data={"token": first.json()["refresh_token"]},
                headers=tenant.headers,
            )
            await api.post("/oauth/revoke", data={"token": token}, headers=tenant.headers)
            await api.get("/api/v1/me", headers=bearer(token))
            await api.get("/api/v1/me", headers=bearer(token[:-3] + "abc"))
            await browser.get("/api/v1/me", headers={"Authorization": f"Bearer {cookie}"})
            # The session's own requests: a CSRF failure, logout.
            await browser.post("/api/v1/api-keys", json={"name": "k", "scopes": ["read"]})
            await browser.post("/auth/logout", headers={"X-CSRF-Token": csrf})
            await browser.get("/api/v1/me")

    assert len(seen) > 15
    # Our own log lines: structlog's, and any stdlib record but those of the test's HTTP
    # client (httpx/httpcore log the browser's URLs) and of the provider (werkzeug, authlib,
    # oidc_provider_mock), which run in this process and are not SprintConnect.
    foreign = ("httpx", "httpcore", "werkzeug", "authlib", "oidc_provider_mock")
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith(foreign)]
    logged = json.dumps(logs, default=str) + "\n" + "\n".join(ours)
    assert logs, "nothing was logged: the capture is not working"
    for response in seen:
        # Answers meant to carry a secret: the token endpoint's, the creation's, the redirect
        # to the CLI, the callback's Set-Cookie.
        path = response.request.url.path
        if path in ("/oauth/token", SA, "/oauth/authorize") and response.is_success:
            continue
        text = response.text
        for secret in secrets_out:
            if path == "/auth/callback" and secret == cookie:
                continue
            assert secret not in text, (path, secret[:8])
    for secret in secrets_out:
        assert secret not in logged, secret[:8]
    # The provider's ID tokens (and any token it signed) never reach a log line, nor an answer
    # but one: the logout answer's `end_session_url` carries the ID token as `id_token_hint`
    # (OpenID Connect RP-Initiated Logout, documented in docs/sign-in.md), to that browser only.
    hints: list[str] = []
    bodies: list[str] = []
    for response in seen:
        text = response.text
        if response.request.url.path == "/auth/logout" and response.is_success:
            end_url = response.json()["end_session_url"]
            hint = parse_qs(urlsplit(end_url).query)["id_token_hint"][0]
            hints.append(hint)
            text = text.replace(hint, "")
        bodies.append(text)
    assert len(hints) == 1
    assert claims_of(hints[0])["iss"] == provider.issuer
    assert hints[0] not in logged
    everything = logged + "\n".join(bodies)
    for candidate in re.findall(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*", everything):
        assert claims_of(candidate).get("iss") != provider.issuer, "a provider token leaked"
