"""Every bad sign-in is refused with the failure page (HTML, a reason, a retry link)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
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


def _with(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


def _param(url: str, name: str) -> str:
    return parse_qs(urlsplit(url).query)[name][0]


def _refused(response: httpx.Response, status: int, reason: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert f"<code>{reason}</code>" in response.text, response.text
    assert "sc_session=" not in response.headers.get("set-cookie", "").replace("sc_session=;", "")


@pytest.fixture
async def ready(
    browser: httpx.AsyncClient, tenant: Tenant, provider: Provider
) -> tuple[Tenant, str]:
    response = await configure(browser, tenant, provider)
    assert response.status_code == 200, response.text
    email = new_email()
    provider.put_user(email, {"email": email})
    return tenant, email


async def _authorized(browser: httpx.AsyncClient, slug: str, sub: str) -> tuple[str, str]:
    """Start a sign-in and approve it at the provider: (authorize URL, callback URL)."""
    login = await browser.get("/auth/login", params={"org": slug})
    authorize = login.headers["location"]
    chosen = await browser.post(authorize, data={"sub": sub})
    assert chosen.status_code == 302, chosen.text
    return authorize, chosen.headers["location"]


async def test_a_tampered_state_is_refused(
    browser: httpx.AsyncClient, ready: tuple[Tenant, str]
) -> None:
    tenant, email = ready
    _, callback = await _authorized(browser, tenant.slug, email)
    state = _param(callback, "state")
    tampered = _with(callback, state=state[:-1] + ("A" if state[-1] != "A" else "B"))
    _refused(await browser.get(tampered), 400, "state_unknown")


async def test_a_replayed_state_is_refused(
    browser: httpx.AsyncClient, ready: tuple[Tenant, str]
) -> None:
    tenant, email = ready
    flow = await sign_in(browser, tenant.slug, email)
    assert flow.done.status_code == 302
    _refused(await browser.get(flow.callback_url), 400, "state_unknown")


async def test_a_replayed_code_is_refused(
    browser: httpx.AsyncClient, ready: tuple[Tenant, str]
) -> None:
    tenant, email = ready
    flow = await sign_in(browser, tenant.slug, email)
    assert flow.done.status_code == 302
    # A fresh, valid state of this browser, carrying the code that was already exchanged.
    login = await browser.get("/auth/login", params={"org": tenant.slug})
    fresh_state = _param(login.headers["location"], "state")
    replay = _with(flow.callback_url, state=fresh_state)
    _refused(await browser.get(replay), 400, "code_exchange_failed")


async def test_an_id_token_with_another_nonce_is_refused(
    browser: httpx.AsyncClient, ready: tuple[Tenant, str]
) -> None:
    tenant, email = ready
    first_authorize, _ = await _authorized(browser, tenant.slug, email)
    # A second sign-in in the same browser: its state (and binding) with the first's code,
    # whose ID token carries the first sign-in's nonce.
    login = await browser.get("/auth/login", params={"org": tenant.slug})
    second_state = _param(login.headers["location"], "state")
    assert _param(login.headers["location"], "nonce") != _param(first_authorize, "nonce")
    chosen = await browser.post(first_authorize, data={"sub": email})
    mixed = _with(chosen.headers["location"], state=second_state)
    _refused(await browser.get(mixed), 400, "id_token_nonce")


async def test_a_redirect_uri_one_character_off_is_refused(
    browser: httpx.AsyncClient, ready: tuple[Tenant, str]
) -> None:
    tenant, email = ready
    login = await browser.get("/auth/login", params={"org": tenant.slug})
    authorize = login.headers["location"]
    redirect = _param(authorize, "redirect_uri")
    assert redirect == "https://testserver/auth/callback"
    # The provider issues the code for a redirect URI that differs by one character...
    chosen = await browser.post(_with(authorize, redirect_uri=redirect + "x"), data={"sub": email})
    assert chosen.status_code == 302
    code = _param(chosen.headers["location"], "code")
    # ... and the exchange with the exact URI fails.
    callback = "/auth/callback?" + urlencode({"code": code, "state": _param(authorize, "state")})
    _refused(await browser.get(callback), 400, "code_exchange_failed")


async def test_a_callback_with_another_browsers_state_is_refused(
    sign_in_app: SignInApp,
    browser: httpx.AsyncClient,
    ready: tuple[Tenant, str],
    make_tenant: TenantFactory,
    provider: Provider,
) -> None:
    tenant, email = ready
    other = await make_tenant()
    assert (await configure(browser, other, provider)).status_code == 200
    async with sign_in_app.browser() as attacker:
        _, foreign = await _authorized(attacker, other.slug, email)
    await browser.get("/auth/login", params={"org": tenant.slug})  # this browser's own binding
    _refused(await browser.get(foreign), 400, "browser_mismatch")
    # Audited in the organization whose state it was.
    async with sign_in_app.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, other.org_id)
        tags = (
            await session.scalars(
                select(AuditEvent.details).where(
                    AuditEvent.org_id == other.org_id,
                    AuditEvent.tag == "org:session:sign_in_failed",
                )
            )
        ).all()
    assert {"reason": "browser_mismatch"} in tags


async def test_an_email_outside_the_allowed_domains_is_refused(
    browser: httpx.AsyncClient, tenant: Tenant, provider: Provider
) -> None:
    assert (
        await configure(browser, tenant, provider, allowed_email_domains=["corp.example"])
    ).status_code == 200
    outsider = new_email("elsewhere.example")
    provider.put_user(outsider, {"email": outsider})
    flow = await sign_in(browser, tenant.slug, outsider)
    _refused(flow.done, 403, "email_domain")
    assert "Try signing in again" in flow.done.text
    insider = new_email("corp.example")
    provider.put_user(insider, {"email": insider})
    assert (await sign_in(browser, tenant.slug, insider)).done.status_code == 302


async def test_an_unknown_org_and_an_org_without_provider_get_clear_pages(
    browser: httpx.AsyncClient, tenant: Tenant
) -> None:
    unknown = await browser.get("/auth/login", params={"org": "no-such-org-here"})
    _refused(unknown, 404, "unknown_org")
    assert "No organization is named" in unknown.text
    bare = await browser.get("/auth/login", params={"org": tenant.slug})
    _refused(bare, 409, "no_provider")
    assert "no identity provider" in bare.text


async def test_without_an_org_a_page_asks_for_it(browser: httpx.AsyncClient) -> None:
    page = await browser.get("/auth/login", params={"return_to": "/x?a=1&b=<2>"})
    assert page.status_code == 200
    assert 'name="org"' in page.text
    assert 'value="/x?a=1&amp;b=&lt;2&gt;"' in page.text  # escaped, kept for after sign-in


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/ok\r\nSet-Cookie: x=1",
    ],
)
async def test_return_to_another_origin_is_refused(
    browser: httpx.AsyncClient, ready: tuple[Tenant, str], target: str
) -> None:
    tenant, _ = ready
    response = await browser.get("/auth/login", params={"org": tenant.slug, "return_to": target})
    _refused(response, 400, "return_to")


async def test_a_user_of_another_org_is_not_linked_silently(
    browser: httpx.AsyncClient,
    ready: tuple[Tenant, str],
    make_tenant: TenantFactory,
    provider: Provider,
) -> None:
    tenant, _ = ready
    other = await make_tenant()
    # The other org's admin exists as a user, but is no member of ``tenant``.
    me = await browser.get("/api/v1/me", headers=other.headers)
    email = me.json()["email"]
    provider.put_user(email, {"email": email})
    flow = await sign_in(browser, tenant.slug, email)
    _refused(flow.done, 403, "account_exists")
    assert "Ask an administrator" in flow.done.text


async def test_a_response_naming_another_issuer_is_refused(
    browser: httpx.AsyncClient, ready: tuple[Tenant, str]
) -> None:
    tenant, email = ready
    _, callback = await _authorized(browser, tenant.slug, email)
    mixed_up = _with(callback, iss="https://evil.example")
    _refused(await browser.get(mixed_up), 400, "issuer_mismatch")


async def test_repeated_failures_from_one_address_are_throttled(
    make_app: SignInAppFactory,
) -> None:
    app = await make_app(auth_failure_rate_limit="3/minute")
    async with app.browser() as browser:
        for _ in range(3):
            page = await browser.get("/auth/callback", params={"state": "forged", "code": "c"})
            _refused(page, 400, "state_unknown")
        throttled = await browser.get("/auth/callback", params={"state": "forged", "code": "c"})
        assert_problem(throttled, 429)
        assert int(throttled.headers["retry-after"]) >= 1
        assert_problem(await browser.get("/auth/login", params={"org": "any"}), 429)
