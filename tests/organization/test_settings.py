"""An organization's own settings: time zone and egress allowlist; the operator's quota."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from sprintconnect.runtime import Runtime
from tests.conftest import MemberFactory, Tenant, assert_problem
from tests.integration.processes import cli_env, run_cli


async def test_read_and_change_settings(client: httpx.AsyncClient, tenant: Tenant) -> None:
    org = (await client.get("/api/v1/organization", headers=tenant.headers)).json()
    assert org["slug"] == tenant.slug
    assert org["time_zone"] == "UTC"
    changed = await client.patch(
        "/api/v1/organization",
        json={"time_zone": "Europe/Berlin", "egress_allowlist": ["*.example.com", "10.0.0.0/8"]},
        headers=tenant.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["egress_allowlist"] == ["*.example.com", "10.0.0.0/8"]
    me = (await client.get("/api/v1/me", headers=tenant.headers)).json()
    assert me["org_id"] == str(tenant.org_id)


@pytest.mark.parametrize(
    "body",
    [
        {"time_zone": "Mars/Olympus"},
        {"egress_allowlist": ["not a host!"]},
        {"egress_allowlist": ["*.1.2.3.4"]},
        {"server_quota": 5},
        {"name": ""},
    ],
)
async def test_invalid_settings_are_422(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, object]
) -> None:
    assert_problem(
        await client.patch("/api/v1/organization", json=body, headers=tenant.headers), 422
    )


async def test_only_org_writers_change_settings(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    viewer = await make_member(tenant, ["viewer"])
    assert (await client.get("/api/v1/organization", headers=viewer.headers)).status_code == 200
    assert_problem(
        await client.patch(
            "/api/v1/organization", json={"time_zone": "UTC"}, headers=viewer.headers
        ),
        403,
    )


async def test_allowlist_limits_registration(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await client.patch(
        "/api/v1/organization", json={"egress_allowlist": ["*.example.com"]}, headers=tenant.headers
    )
    inside = await client.post(
        "/api/v1/servers",
        json={"name": "in", "url": "https://mcp.example.com/mcp", "auto_discover": False},
        headers=tenant.headers,
    )
    assert inside.status_code == 201
    outside = await client.post(
        "/api/v1/servers",
        json={"name": "out", "url": "https://mcp.other.org/mcp", "auto_discover": False},
        headers=tenant.headers,
    )
    problem = assert_problem(outside, 422, "egress-denied")
    assert problem["reason"] == "not_in_allowlist"


async def test_operator_sets_the_server_quota(
    client: httpx.AsyncClient, runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    env = cli_env(tmp_path, database_url)
    boot = run_cli("admin", "bootstrap", "--org", "Quota Org", "--email", "q@example.com", env=env)
    headers = {"Authorization": f"Bearer {json.loads(boot.stdout)['api_key']['key']}"}
    done = run_cli("admin", "set-server-quota", "--org", "quota-org", "--servers", "0", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["server_quota"] == 0
    org = (await client.get("/api/v1/organization", headers=headers)).json()
    assert org["server_quota"] == 0
    refused = await client.post(
        "/api/v1/servers",
        json={"name": "one", "url": "https://mcp.example.com/mcp", "auto_discover": False},
        headers=headers,
    )
    problem = assert_problem(refused, 403, "server-quota-exceeded")
    assert problem["limit"] == 0
