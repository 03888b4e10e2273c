"""The development identity provider: the bootstrap admin and example members sign in."""

from __future__ import annotations

import socket

from sprintconnect.identity.session.devidp import start_dev_idp
from tests.conftest import Tenant
from tests.identity.session.conftest import SignInAppFactory, sign_in


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_dev_provider_signs_in_the_admin_and_example_members(
    make_app: SignInAppFactory, tenant: Tenant
) -> None:
    port = _free_port()
    # Loopback egress stays closed: only the development issuer is let through.
    app = await make_app(dev_idp=True, dev_idp_port=port, egress_allow_loopback=False)
    app.app.state.dev_idp = start_dev_idp(app.runtime.settings)  # what app startup does
    assert app.app.state.dev_idp is not None
    try:
        async with app.browser() as browser:
            admin = (await browser.get("/api/v1/me", headers=tenant.headers)).json()
            flow = await sign_in(browser, tenant.slug, admin["email"])
            assert flow.done.status_code == 302, flow.done.text
            assert f"127.0.0.1:{port}" in flow.authorize_url
            me = (await browser.get("/api/v1/me")).json()
            assert me["user_id"] == admin["user_id"]
            assert me["roles"] == ["admin"]
            page = await browser.get(flow.authorize_url)
            assert admin["email"] in page.text  # members are listed on the provider's page

        async with app.browser() as browser:
            assert (
                await sign_in(browser, tenant.slug, "alice@example.com")
            ).done.status_code == 302
            alice = (await browser.get("/api/v1/me")).json()
            assert alice["roles"] == ["engineer"]
            assert alice["name"] == "Alice Example"
    finally:
        app.app.state.dev_idp.stop()


async def test_production_never_starts_it(make_app: SignInAppFactory) -> None:
    app = await make_app(dev_idp=False)
    assert start_dev_idp(app.runtime.settings) is None
