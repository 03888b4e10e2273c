"""The real command: migrate, bootstrap, serve; a key from bootstrap works until revoked."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from sprintconnect.runtime import Runtime
from tests.integration.processes import cli_env, run_cli, serving


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["serve"],
        ["worker"],
        ["migrate"],
        ["admin"],
        ["admin", "bootstrap"],
        ["admin", "create-api-key"],
    ],
)
def test_help_reads_well(command: list[str], tmp_path: Path) -> None:
    result = run_cli(*command, "--help", env=cli_env(tmp_path, None))
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_bootstrap_key_authenticates_and_revocation_locks_it_out(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    env = cli_env(tmp_path, database_url)
    boot = run_cli(
        "admin", "bootstrap", "--org", "Process Org", "--email", "ops@example.com", env=env
    )
    assert boot.returncode == 0, boot.stderr
    printed = json.loads(boot.stdout)
    key = printed["api_key"]["key"]
    assert printed["api_key"]["scopes"] == ["admin"]
    assert printed["user"]["email"] == "ops@example.com"
    headers = {"Authorization": f"Bearer {key}"}
    with serving(env) as base:
        me = httpx.get(f"{base}/api/v1/me", headers=headers)
        assert me.status_code == 200
        assert me.json()["org_id"] == printed["organization"]["id"]
        assert me.headers["x-request-id"]
        revoked = httpx.post(
            f"{base}/api/v1/api-keys/{printed['api_key']['id']}/revoke", headers=headers
        )
        assert revoked.status_code == 200
        after = httpx.get(f"{base}/api/v1/me", headers=headers)
        assert after.status_code == 401
        assert after.headers["content-type"] == "application/problem+json"

    again = run_cli(
        "admin", "bootstrap", "--org", "Process Org", "--email", "x@example.com", env=env
    )
    assert again.returncode == 1
    assert "taken" in again.stderr
    assert "Traceback" not in again.stderr


def test_create_api_key_command(runtime: Runtime, database_url: str, tmp_path: Path) -> None:
    env = cli_env(tmp_path, database_url)
    boot = json.loads(
        run_cli(
            "admin", "bootstrap", "--org", "Keys Org", "--email", "k@example.com", env=env
        ).stdout
    )
    made = run_cli(
        "admin",
        "create-api-key",
        "--org",
        "keys-org",
        "--name",
        "deploy",
        "--scope",
        "servers:read",
        "--scope",
        "servers:write",
        "--expires-in-days",
        "30",
        env=env,
    )
    assert made.returncode == 0, made.stderr
    printed = json.loads(made.stdout)
    assert printed["organization_id"] == boot["organization"]["id"]
    assert printed["api_key"]["scopes"] == ["servers:read", "servers:write"]
    assert printed["api_key"]["expires_at"] is not None
    for bad_args in (["--org", "no-such-org"], ["--org", "keys-org", "--scope", "fly"]):
        bad = run_cli("admin", "create-api-key", "--name", "x", *bad_args, env=env)
        assert bad.returncode in (1, 2)
        assert "Traceback" not in bad.stderr
        assert bad.stderr.startswith("error:")


def test_bad_email_and_bad_settings_are_clear(tmp_path: Path, database_url: str) -> None:
    env = cli_env(tmp_path, database_url)
    bad_email = run_cli("admin", "bootstrap", "--org", "E", "--email", "not-an-email", env=env)
    assert bad_email.returncode == 2
    assert "--email" in bad_email.stderr
    prod = run_cli(
        "migrate", env={**env, "SPRINTCONNECT_ENV": "production", "SPRINTCONNECT_SECRET_KEY": ""}
    )
    assert prod.returncode == 2
    assert "Configuration is not valid" in prod.stderr
    assert "Traceback" not in prod.stderr
    not_json = run_cli(
        "migrate", env={**env, "SPRINTCONNECT_EGRESS_ALLOW_PRIVATE_CIDRS": "10.0.0.0/8"}
    )
    assert not_json.returncode == 2
    assert "Configuration is not valid" in not_json.stderr
    assert "Traceback" not in not_json.stderr


def test_embedded_postgres_serves_with_no_database_configured(tmp_path: Path) -> None:
    """What `make run` does on a bare machine: migrate, then serve, on embedded PostgreSQL."""
    env = cli_env(tmp_path / "data", None)
    migrated = run_cli("migrate", env=env, timeout=180)
    assert migrated.returncode == 0, migrated.stderr
    assert "embedded PostgreSQL" in migrated.stderr
    assert (tmp_path / "data" / "postgres" / "PG_VERSION").exists()
    boot = run_cli("admin", "bootstrap", "--org", "Embedded", "--email", "e@example.com", env=env)
    assert boot.returncode == 0, boot.stderr
    key = json.loads(boot.stdout)["api_key"]["key"]
    with serving(env, timeout=120) as base:
        assert httpx.get(f"{base}/readyz").json()["status"] == "ready"
        me = httpx.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {key}"})
        assert me.status_code == 200
