"""In development, the 422 for a loopback address names the setting that allows it."""

from __future__ import annotations

import httpx
import pytest

from sprintconnect.config import Settings
from sprintconnect.egress import EgressDenied, check_url, policy_from_settings
from tests.conftest import TEST_SECRET, Tenant
from tests.mcp_server.support import register


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:3001/mcp", "http://localhost:3001/mcp", "http://[::1]:3001/mcp"]
)
async def test_registering_a_loopback_server_in_development_names_the_setting(
    client: httpx.AsyncClient, tenant: Tenant, url: str
) -> None:
    problem = await register(client, tenant, expect=422, url=url)
    assert problem["type"] == "/problems/egress-denied"
    assert problem["reason"] == "address_denied:loopback"
    assert "SPRINTCONNECT_EGRESS_ALLOW_LOOPBACK=true" in problem["detail"]


def test_in_production_the_detail_does_not_name_the_setting() -> None:
    settings = Settings(
        env="production",
        secret_key=TEST_SECRET,
        database_url="postgresql://sc@127.0.0.1:5432/sc",
        _env_file=None,
    )
    with pytest.raises(EgressDenied) as refused:
        check_url("http://127.0.0.1:3001/mcp", policy_from_settings(settings))
    assert refused.value.reason == "address_denied:loopback"
    assert "SPRINTCONNECT_" not in (refused.value.detail or "")
