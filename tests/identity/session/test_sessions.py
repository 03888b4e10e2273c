"""Sessions: expiry, renewal through the provider, roles from groups, Redis store."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from sprintconnect.identity.session.renewal import settled
from tests.conftest import ShiftableClock, Tenant, assert_problem
from tests.identity.session.conftest import (
    Provider,
    SignInApp,
    SignInAppFactory,
    configure,
    new_email,
    sign_in,
)


async def _signed_in(
    browser: httpx.AsyncClient, tenant: Tenant, provider: Provider, **claims: object
) -> str:
    email = new_email()
    provider.put_user(email, {"email": email, **claims})
    flow = await sign_in(browser, tenant.slug, email)
    assert flow.done.status_code == 302, flow.done.text
    return email


async def test_renewal_then_failed_renewal_ends_the_session(
    browser: httpx.AsyncClient,
    tenant: Tenant,
    provider: Provider,
    moved_clock: ShiftableClock,
) -> None:
    assert (await configure(browser, tenant, provider)).status_code == 200
    email = await _signed_in(browser, tenant, provider)
    # Past the provider's access token (1 h): renewed with the refresh token, still signed in.
    moved_clock.offset += timedelta(seconds=3601)
    assert (await browser.get("/api/v1/me")).status_code == 200
    provider.revoke(email)
    moved_clock.offset += timedelta(seconds=3601)
    expired = await browser.get("/api/v1/me")
    body = assert_problem(expired, 401, "session-expired")
    assert "Sign in again" in body["detail"]
    assert expired.headers["location"] == f"https://testserver/auth/login?org={tenant.slug}"
    assert body["login_url"] == expired.headers["location"]
    # The session is over for good, even once the provider would answer again.
    assert_problem(await browser.get("/api/v1/me"), 401, "session-expired")


async def test_renewal_happens_in_the_background_before_expiry(
    browser: httpx.AsyncClient,
    tenant: Tenant,
    provider: Provider,
    moved_clock: ShiftableClock,
) -> None:
    assert (await configure(browser, tenant, provider)).status_code == 200
    email = await _signed_in(browser, tenant, provider)
    moved_clock.offset += timedelta(seconds=3570)  # within the last minute of the token
    assert (await browser.get("/api/v1/me")).status_code == 200
    await settled()
    # Renewed already: past the first token's end, nothing needs the provider (now refusing).
    provider.revoke(email)
    moved_clock.offset += timedelta(seconds=60)
    assert (await browser.get("/api/v1/me")).status_code == 200


async def test_idle_sessions_expire(
    browser: httpx.AsyncClient, tenant: Tenant, provider: Provider, moved_clock: ShiftableClock
) -> None:
    assert (await configure(browser, tenant, provider)).status_code == 200
    await _signed_in(browser, tenant, provider)
    moved_clock.offset += timedelta(hours=8, seconds=1)
    detail = assert_problem(await browser.get("/api/v1/me"), 401, "session-expired")["detail"]
    assert "inactivity" in detail


async def test_sessions_end_at_their_absolute_limit(
    make_app: SignInAppFactory, tenant: Tenant, provider: Provider, moved_clock: ShiftableClock
) -> None:
    app = await make_app(session_max_seconds=300, session_idle_seconds=3600)
    async with app.browser() as browser:
        assert (await configure(browser, tenant, provider)).status_code == 200
        await _signed_in(browser, tenant, provider)
        moved_clock.offset += timedelta(seconds=200)
        assert (await browser.get("/api/v1/me")).status_code == 200
        moved_clock.offset += timedelta(seconds=101)
        detail = assert_problem(await browser.get("/api/v1/me"), 401, "session-expired")
        assert "maximum length" in detail["detail"]


async def test_group_mapping_gives_roles_and_roles_govern(
    browser: httpx.AsyncClient, tenant: Tenant, provider: Provider
) -> None:
    mapping = {"eng": ["engineer"], "data": ["analyst"]}
    assert (await configure(browser, tenant, provider, group_roles=mapping)).status_code == 200
    email = await _signed_in(browser, tenant, provider, groups=["eng"], name="Eve")
    me = (await browser.get("/api/v1/me")).json()
    assert me["roles"] == ["engineer"]
    csrf = (await browser.get("/auth/session")).json()["csrf_token"]
    # An engineer may create their own key, and may not add members.
    key = await browser.post(
        "/api/v1/api-keys",
        json={"name": "cli", "scopes": ["read"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert key.status_code == 201, key.text
    created = await browser.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {key.json()['key']}"}
    )
    assert created.json()["user_id"] == me["user_id"]
    denied = await browser.post(
        "/api/v1/users",
        json={"email": new_email(), "roles": []},
        headers={"X-CSRF-Token": csrf},
    )
    assert denied.status_code == 403, denied.text
    # A role assigned by hand stays; the mapped ones follow the groups at the next sign-in.
    hand = await browser.put(f"/api/v1/users/{me['user_id']}/roles/viewer", headers=tenant.headers)
    assert hand.status_code == 200, hand.text
    provider.put_user(email, {"email": email, "groups": ["data"]})
    assert (await sign_in(browser, tenant.slug, email)).done.status_code == 302
    assert (await browser.get("/api/v1/me")).json()["roles"] == ["analyst", "viewer"]


@pytest.mark.usefixtures("redis_url")
async def test_sessions_in_redis(
    make_app: SignInAppFactory, tenant: Tenant, provider: Provider, redis_url: str | None
) -> None:
    if redis_url is None:
        pytest.fail("Redis must run for this test (127.0.0.1:6379)")
    app: SignInApp = await make_app(session_store="redis", redis_url=redis_url)
    async with app.browser() as browser:
        assert (await configure(browser, tenant, provider)).status_code == 200
        await _signed_in(browser, tenant, provider)
        assert (await browser.get("/api/v1/me")).json()["credential"] == "session"
        csrf = (await browser.get("/auth/session")).json()["csrf_token"]
        out = await browser.post("/auth/logout", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 200
        assert (await browser.get("/api/v1/me")).status_code == 401
