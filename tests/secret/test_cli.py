"""``secrets rotate-key`` and ``secrets rotate-data-key`` through the Typer sub-app."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sqlalchemy import Engine, text
from typer.testing import CliRunner, Result

from sprintconnect.runtime import Runtime
from sprintconnect.secret import LocalSecretStore
from sprintconnect.secret.cli import build_cli
from tests.conftest import TEST_SECRET, TenantFactory


async def _invoke(args: list[str], env: dict[str, str]) -> Result:
    # The command runs its own event loop (asyncio.run), so it gets a thread of its own.
    return await asyncio.to_thread(CliRunner().invoke, build_cli(), args, env=env)


def _env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "SPRINTCONNECT_DATABASE_URL": database_url,
        "SPRINTCONNECT_SECRET_KEY": TEST_SECRET,
        "SPRINTCONNECT_DATA_DIR": str(data_dir),
        "SPRINTCONNECT_LOG_FORMAT": "console",
        **extra,
    }


async def test_rotate_key_rewraps_under_the_configured_version(
    runtime: Runtime,
    make_tenant: TenantFactory,
    database_url: str,
    tmp_path: Path,
    admin_engine: Engine,
) -> None:
    org = (await make_tenant()).org_id
    store = LocalSecretStore(
        runtime.db.sessionmaker, runtime.keyring, kek_version=1, clock=runtime.clock
    )
    await store.put(org, "cli/secret", {"v": "cli-value"})

    env = _env(database_url, tmp_path, SPRINTCONNECT_SECRET_STORE_KEK_VERSION="7")
    result = await _invoke(["rotate-key"], env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["backend"] == "local"
    assert report["kek_version"] == 7
    assert report["rewrapped_keys"] >= 1
    assert report["failed_organizations"] == []
    assert "cli-value" not in result.output
    with admin_engine.connect() as conn:
        kek = conn.execute(
            text("SELECT kek_version FROM secret_data_keys WHERE org_id = :o"), {"o": org}
        ).scalar_one()
    assert kek == 7
    assert (await store.get(org, "cli/secret")).reveal() == {"v": "cli-value"}

    again = await _invoke(["rotate-key"], env)
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["rewrapped_keys"] == 0


async def test_rotate_data_key_for_one_org(
    runtime: Runtime, make_tenant: TenantFactory, database_url: str, tmp_path: Path
) -> None:
    tenant = await make_tenant()
    store = LocalSecretStore(
        runtime.db.sessionmaker, runtime.keyring, kek_version=1, clock=runtime.clock
    )
    await store.put(tenant.org_id, "cli/a", {"v": "a"})
    await store.put(tenant.org_id, "cli/b", {"v": "b"})

    result = await _invoke(["rotate-data-key", "--org", tenant.slug], _env(database_url, tmp_path))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report == {
        "organization_id": str(tenant.org_id),
        "dek_version": 2,
        "reencrypted_secrets": 2,
    }
    assert (await store.get(tenant.org_id, "cli/b")).reveal() == {"v": "b"}


async def test_rotate_data_key_refuses_other_backends_and_unknown_orgs(
    database_url: str, tmp_path: Path
) -> None:
    vault = _env(
        database_url,
        tmp_path,
        SPRINTCONNECT_SECRET_STORE="vault",
        SPRINTCONNECT_VAULT_URL="http://127.0.0.1:1",
        SPRINTCONNECT_VAULT_TOKEN="t",
    )
    refused = await _invoke(["rotate-data-key", "--org", "x"], vault)
    assert refused.exit_code == 2
    assert "local secret store only" in refused.output

    unknown = await _invoke(
        ["rotate-data-key", "--org", "no-such-org-anywhere"], _env(database_url, tmp_path)
    )
    assert unknown.exit_code == 1
    assert "no-such-org-anywhere" in unknown.output


async def test_rotate_key_on_vault_explains_where_keys_rotate(
    database_url: str, tmp_path: Path
) -> None:
    env = _env(
        database_url,
        tmp_path,
        SPRINTCONNECT_SECRET_STORE="vault",
        SPRINTCONNECT_VAULT_URL="http://127.0.0.1:1",
        SPRINTCONNECT_VAULT_TOKEN="t",
    )
    result = await _invoke(["rotate-key"], env)
    assert result.exit_code == 1
    assert "bao operator rotate" in result.output
