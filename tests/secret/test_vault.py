"""The vault backend against a real OpenBao dev server: layout, least privilege, failures."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from pathlib import Path

import hvac
import pytest
from hvac import exceptions as vault_errors
from pydantic import ValidationError

from sprintconnect.runtime import Runtime
from sprintconnect.secret import (
    InvalidSecretPath,
    SecretStoreUnavailable,
    VaultSecretStore,
    build_secret_store,
    vault_store,
)
from sprintconnect.secret.vault import _parse_time
from tests.conftest import TenantFactory, make_settings
from tests.fixtures.bao import free_port
from tests.fixtures.vault import VAULT_MOUNT, VaultEnv


@pytest.fixture
def store(vault_env: VaultEnv, database_url: str, tmp_path: Path) -> VaultSecretStore:
    return vault_store(vault_env.settings(database_url, tmp_path))


async def test_secrets_live_under_the_org_subtree(
    store: VaultSecretStore, vault_env: VaultEnv, make_tenant: TenantFactory
) -> None:
    org = (await make_tenant()).org_id
    await store.put(org, "servers/s9/oauth", {"client_secret": "cs-1"})
    raw = vault_env.root.secrets.kv.v2.read_secret_version(
        path=f"sprintconnect/orgs/{org}/servers/s9/oauth",
        mount_point=VAULT_MOUNT,
        raise_on_deleted_version=True,
    )
    assert raw["data"]["data"] == {"client_secret": "cs-1"}
    assert store.location(org, "servers/s9/oauth") == f"sprintconnect/orgs/{org}/servers/s9/oauth"


async def test_the_app_token_reaches_nothing_outside_its_subtree(
    vault_env: VaultEnv, make_tenant: TenantFactory
) -> None:
    vault_env.root.secrets.kv.v2.create_or_update_secret(
        path="operators/root-only", secret={"k": "v"}, mount_point=VAULT_MOUNT
    )
    app = hvac.Client(url=vault_env.server.url, token=vault_env.app_token)
    try:
        with pytest.raises(vault_errors.Forbidden):
            app.secrets.kv.v2.read_secret_version(
                path="operators/root-only", mount_point=VAULT_MOUNT, raise_on_deleted_version=True
            )
        with pytest.raises(vault_errors.Forbidden):
            app.sys.list_mounted_secrets_engines()
    finally:
        app.adapter.close()


async def test_an_unreachable_server_is_unavailable_without_the_value(
    make_tenant: TenantFactory,
) -> None:
    org = (await make_tenant()).org_id
    dead = VaultSecretStore(url=f"http://127.0.0.1:{free_port()}", token="t", timeout=2)
    try:
        with pytest.raises(SecretStoreUnavailable, match="could not be reached for 'a/b'") as e:
            await dead.put(org, "a/b", {"k": "unreachable-value"})
        assert "unreachable-value" not in str(e.value)
        with pytest.raises(SecretStoreUnavailable):
            await dead.get(org, "a/b")
    finally:
        await dead.close()


async def test_a_refused_token_is_unavailable(
    vault_env: VaultEnv, make_tenant: TenantFactory
) -> None:
    org = (await make_tenant()).org_id
    bad = VaultSecretStore(url=vault_env.server.url, token="not-a-token", mount=VAULT_MOUNT)
    try:
        with pytest.raises(SecretStoreUnavailable, match="refused access to 'x'"):
            await bad.put(org, "x", {"k": "v"})
    finally:
        await bad.close()


def test_repr_never_shows_the_token(vault_env: VaultEnv) -> None:
    store = VaultSecretStore(url=vault_env.server.url, token=vault_env.app_token)
    assert vault_env.app_token not in repr(store)
    assert vault_env.server.url in repr(store)


def test_vault_settings_are_required_and_checked(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="SPRINTCONNECT_VAULT_URL"):
        make_settings(None, tmp_path, secret_store="vault")
    with pytest.raises(ValidationError):
        make_settings(None, tmp_path, secret_store="vault", vault_url="ftp://x", vault_token="t")
    with pytest.raises(ValidationError):
        make_settings(
            None,
            tmp_path,
            secret_store="vault",
            vault_url="http://127.0.0.1:1",
            vault_token="t",
            vault_path_prefix="../escape",
        )


async def test_the_factory_builds_the_configured_backend(
    runtime: Runtime, vault_env: VaultEnv, database_url: str, tmp_path: Path
) -> None:
    settings = vault_env.settings(database_url, tmp_path)
    assert isinstance(
        build_secret_store(dataclasses.replace(runtime, settings=settings)), VaultSecretStore
    )
    assert build_secret_store(runtime).backend == "local"


def test_mount_and_prefix_are_validated() -> None:
    with pytest.raises(InvalidSecretPath, match="not valid"):
        VaultSecretStore(url="http://127.0.0.1:1", token="t", path_prefix="a/../b")
    with pytest.raises(InvalidSecretPath):
        VaultSecretStore(url="http://127.0.0.1:1", token="t", mount="")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-26T23:37:00.123456789Z", datetime(2026, 11, 26, 23, 37, 0, 123456, UTC)),
        ("2026-11-26T23:37:00Z", datetime(2026, 11, 26, 23, 37, 0, tzinfo=UTC)),
        ("2026-11-26T23:37:00.5+00:00", datetime(2026, 11, 26, 23, 37, 0, 500000, UTC)),
    ],
)
def test_vault_times_parse(text: str, expected: datetime) -> None:
    assert _parse_time(text) == expected


async def test_each_org_is_its_own_subtree_in_listings(
    store: VaultSecretStore, vault_env: VaultEnv, make_tenant: TenantFactory
) -> None:
    a, b = (await make_tenant()).org_id, (await make_tenant()).org_id
    await store.put(a, "servers/one", {"k": "a"})
    await store.put(b, "servers/one", {"k": "b"})
    orgs = vault_env.root.secrets.kv.v2.list_secrets(
        path="sprintconnect/orgs", mount_point=VAULT_MOUNT
    )["data"]["keys"]
    assert {f"{a}/", f"{b}/"} <= set(orgs)
    assert all(uuid.UUID(key.rstrip("/")) for key in orgs)


async def test_a_missing_mount_is_unavailable_not_missing(
    vault_env: VaultEnv, make_tenant: TenantFactory
) -> None:
    org = (await make_tenant()).org_id
    store = VaultSecretStore(
        url=vault_env.server.url, token=vault_env.server.root_token, mount="no-such-mount"
    )
    try:
        with pytest.raises(SecretStoreUnavailable, match="no KV v2 mount 'no-such-mount'"):
            await store.put(org, "x", {"k": "v"})
    finally:
        await store.close()
