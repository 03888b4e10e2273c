"""The whole browser sign-in against a real OIDC provider: login, session, CSRF, logout."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.models import AuditEvent
from tests.conftest import Tenant, TenantFactory, assert_problem
from tests.identity.session.conftest import (
    Provider,
    SignInApp,
    SignInAppFactory,
    configure,
    new_email,
    sign_in,
)


async def test_sign_in_session_csrf_and_logout(
    sign_in_app: SignInApp, browser: httpx.AsyncClient, provider: Provider, tenant: Tenant
) -> None:
    assert (
        await configure(browser, tenant, provider, group_roles={"eng": ["engineer"]})
    ).status_code == 200
    email = new_email()
    provider.put_user(email, {"email": email, "name": "Ada Lovelace", "groups": ["eng"]})

    flow = await sign_in(browser, tenant.slug, email)

    assert flow.done.status_code == 302, flow.done.text
    assert flow.done.headers["location"] == "https://testserver/api/v1/me"
    cookie = flow.done.headers["set-cookie"]
    assert "__Host-sc_session=" in cookie
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "Path=/" in cookie
    me = await browser.get("/api/v1/me")
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["credential"] == "session"
    assert body["email"] == email
    assert body["name"] == "Ada Lovelace"
    assert body["org_slug"] == tenant.slug
    assert body["roles"] == ["engineer"]

    info = (await browser.get("/auth/session")).json()
    csrf = info["csrf_token"]
    assert info["user"]["email"] == email

    created = await browser.post("/api/v1/api-keys", json={"name": "mine", "scopes": ["read"]})
    assert_problem(created, 403, "csrf-token-missing")
    wrong = await browser.post(
        "/api/v1/api-keys",
        json={"name": "mine", "scopes": ["read"]},
        headers={"X-CSRF-Token": csrf[:-2] + "xx"},
    )
    assert_problem(wrong, 403, "csrf-token-invalid")
    cross = await browser.post(
        "/api/v1/api-keys",
        json={"name": "mine", "scopes": ["read"]},
        headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
    )
    assert_problem(cross, 403, "cross-site-request")
    created = await browser.post(
        "/api/v1/api-keys",
        json={"name": "mine", "scopes": ["read"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert created.status_code == 201, created.text

    out = await browser.post("/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 200, out.text
    assert out.json()["end_session_url"].startswith(provider.issuer + "/oauth2/end_session?")
    assert (await browser.get("/api/v1/me")).status_code == 401


async def test_sign_in_is_audited_with_address_and_user_agent(
    sign_in_app: SignInApp, browser: httpx.AsyncClient, provider: Provider, tenant: Tenant
) -> None:
    assert (await configure(browser, tenant, provider)).status_code == 200
    email = new_email()
    provider.put_user(email, {"email": email})
    browser.headers["User-Agent"] = "SignInTest/1.0"
    first = await sign_in(browser, tenant.slug, email)
    assert first.done.status_code == 302
    first_cookie = browser.cookies.get("__Host-sc_session")
    # Signing in again in the same browser ends the previous session.
    assert (await sign_in(browser, tenant.slug, email)).done.status_code == 302
    assert first_cookie
    async with sign_in_app.browser() as replay:
        old = await replay.get(
            "/api/v1/me", headers={"Cookie": f"__Host-sc_session={first_cookie}"}
        )
        assert_problem(old, 401, "session-expired")
    async with sign_in_app.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        rows = (
            await session.execute(
                select(AuditEvent.tag, AuditEvent.ip, AuditEvent.user_agent).where(
                    AuditEvent.org_id == tenant.org_id,
                    AuditEvent.tag == "org:session:signed_in",
                )
            )
        ).all()
    assert len(rows) == 2
    assert all(str(ip) and agent == "SignInTest/1.0" for _, ip, agent in rows)


async def test_loopback_http_in_development_uses_plain_cookies(
    make_app: SignInAppFactory, provider: Provider, make_tenant: TenantFactory
) -> None:
    tenant = await make_tenant()
    base = "http://127.0.0.1:8000"
    app = await make_app(public_url=base)
    transport = httpx.ASGITransport(app=app.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(mounts={base: transport}, base_url=base) as browser:
        assert (await configure(browser, tenant, provider)).status_code == 200
        login = await browser.get("/auth/login", params={"org": tenant.slug})
        cookie = login.headers["set-cookie"]
        assert cookie.startswith("sc_login=")
        assert "Secure" not in cookie
        assert "HttpOnly" in cookie
        assert (
            "redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Fauth%2Fcallback"
            in login.headers["location"]
        )
        email = new_email()
        provider.put_user(email, {"email": email})
        flow = await sign_in(browser, tenant.slug, email)
        assert flow.done.headers["set-cookie"].startswith("sc_session=")
        assert "Secure" not in flow.done.headers["set-cookie"]
        me = await browser.get("/api/v1/me")
        assert me.status_code == 200, me.text
        assert me.json()["email"] == email
