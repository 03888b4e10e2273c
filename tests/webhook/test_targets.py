"""Webhook URLs as the guard reads them with loopback not allowed (production), and redirects."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from sprintconnect.config import Settings
from sprintconnect.egress import EgressDenied, policy_from_settings
from sprintconnect.errors import ValidationFailed
from sprintconnect.webhook.service import check_target
from tests.conftest import Tenant
from tests.egress.support import TinyServer
from tests.webhook.conftest import Env, create_webhook


@pytest.fixture
def strict(settings: Settings) -> Settings:
    return settings.model_copy(update={"egress_allow_loopback": False})


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://127.255.255.255/hook",
        "https://127.1/hook",
        "https://0/hook",
        "https://2130706433/hook",
        "https://0x7f000001/hook",
        "https://0177.0.0.1/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://a@127.0.0.1/hook",
        "http://hooks.example.com/hook",  # plain http only where loopback is allowed
    ],
)
def test_loopback_and_plain_http_are_refused_without_the_development_setting(
    strict: Settings, url: str
) -> None:
    policy = policy_from_settings(strict)
    with pytest.raises(ValidationFailed) as refused:
        check_target(url, policy, strict)
    assert refused.value.errors
    assert refused.value.errors[0].loc == ["body", "url"]


@pytest.mark.parametrize(
    "url", ["https://hooks.example.com/in", "https://[2606:4700:4700::1111]/in"]
)
def test_public_https_passes(strict: Settings, url: str) -> None:
    check_target(url, policy_from_settings(strict), strict)


def test_the_allowlist_applies(strict: Settings) -> None:
    policy = policy_from_settings(strict, ["*.example.com"])
    check_target("https://hooks.example.com/in", policy, strict)
    with pytest.raises(EgressDenied) as refused:
        check_target("https://hooks.example.org/in", policy, strict)
    assert refused.value.reason == "not_in_allowlist"


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("to", ["http://10.0.0.1/in", "http://127.0.0.1:{port}/ok"])
async def test_redirects_are_failures_and_never_followed(
    env: Env, tenant: Tenant, status: int, to: str
) -> None:
    server = TinyServer()
    await server.start()
    try:
        target = to.format(port=server.port)
        url = server.url(f"/redirect/{status}?to={quote(target, safe='')}")
        hook = await create_webhook(env, tenant, url, ["server.*"])
        answer = await env.client.post(
            f"/api/v1/webhooks/{hook['id']}/test", headers=tenant.headers
        )
    finally:
        await server.stop()
    body = answer.json()
    assert body["succeeded"] is False
    assert body["status_code"] == status
    assert body["error_class"] == "redirect"
    assert [r.split("?")[0] for r in server.requests] == [f"/redirect/{status}"]
