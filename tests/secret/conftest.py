"""Secret store fixtures: both backends behind one parametrized ``store`` fixture.

The vault backend runs against a real ``bao server -dev`` started once per session. When it
cannot start, vault tests fail under SPRINTCONNECT_TEST_REQUIRE_SERVICES=1 and skip otherwise.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import hvac
import pytest
from sqlalchemy import Engine, create_engine, text

from sprintconnect.config import Settings
from sprintconnect.db.urls import normalize
from sprintconnect.runtime import Runtime
from sprintconnect.secret import SecretStore, build_secret_store
from tests.conftest import make_settings
from tests.secret.bao import BaoServer, BaoUnavailable, start_bao
from tests.services import REQUIRE_SERVICES

VAULT_MOUNT = "sc-test"
VAULT_PREFIX = "sprintconnect"
# The least the store needs: its own subtree of the mount, nothing else.
VAULT_POLICY = f"""
path "{VAULT_MOUNT}/data/{VAULT_PREFIX}/orgs/*" {{
  capabilities = ["create", "read", "update"]
}}
path "{VAULT_MOUNT}/metadata/{VAULT_PREFIX}/orgs/*" {{
  capabilities = ["read", "delete"]
}}
"""

Tamper = Callable[[UUID, str], Awaitable[None]]


@dataclass
class VaultEnv:
    server: BaoServer
    root: hvac.Client
    app_token: str

    def settings(self, database_url: str, data_dir: Path, **extra: Any) -> Settings:
        return make_settings(
            database_url,
            data_dir,
            secret_store="vault",
            vault_url=self.server.url,
            vault_token=self.app_token,
            vault_mount=VAULT_MOUNT,
            vault_path_prefix=VAULT_PREFIX,
            **extra,
        )

    def location(self, org_id: UUID, path: str) -> str:
        return f"{VAULT_PREFIX}/orgs/{org_id}/{path}"


@pytest.fixture(scope="session")
def bao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaoServer]:
    try:
        server = start_bao(tmp_path_factory.mktemp("bao"))
    except BaoUnavailable as exc:
        reason = str(exc)
    else:
        yield server
        server.stop()
        return
    if REQUIRE_SERVICES:
        pytest.fail(
            "OpenBao is required (SPRINTCONNECT_TEST_REQUIRE_SERVICES=1) but could not start: "
            + reason,
            pytrace=False,
        )
    pytest.skip(f"OpenBao is not available here: {reason}")


@pytest.fixture(scope="session")
def vault_env(bao: BaoServer) -> Iterator[VaultEnv]:
    root = hvac.Client(url=bao.url, token=bao.root_token)
    root.sys.enable_secrets_engine("kv", path=VAULT_MOUNT, options={"version": "2"})
    root.sys.create_or_update_policy("sprintconnect", VAULT_POLICY)
    created = root.auth.token.create(policies=["sprintconnect"], ttl="2h", no_default_policy=True)
    yield VaultEnv(server=bao, root=root, app_token=created["auth"]["client_token"])
    root.adapter.close()


@pytest.fixture(scope="session")
def admin_engine(database_url: str) -> Iterator[Engine]:
    """The database owner (a superuser): sees and edits raw rows, past row-level security."""
    engine = create_engine(normalize(database_url))
    yield engine
    engine.dispose()


@pytest.fixture(params=["local", "vault"])
async def store(
    request: pytest.FixtureRequest, runtime: Runtime, database_url: str, tmp_path: Path
) -> AsyncIterator[SecretStore]:
    if request.param == "vault":
        env: VaultEnv = request.getfixturevalue("vault_env")
        settings = env.settings(database_url, tmp_path)
        instance = build_secret_store(dataclasses.replace(runtime, settings=settings))
    else:
        instance = build_secret_store(runtime)
    assert instance.backend == request.param
    yield instance
    await instance.close()


@pytest.fixture
def tamper(store: SecretStore, request: pytest.FixtureRequest) -> Tamper:
    """Corrupt a stored secret behind the store's back, the way each backend can be."""
    if store.backend == "local":
        engine: Engine = request.getfixturevalue("admin_engine")

        async def flip_a_ciphertext_bit(org_id: UUID, path: str) -> None:
            with engine.begin() as conn:
                changed = conn.execute(
                    text(
                        "UPDATE secrets SET ciphertext = "
                        "set_byte(ciphertext, 3, get_byte(ciphertext, 3) # 1) "
                        "WHERE org_id = :o AND path = :p"
                    ),
                    {"o": org_id, "p": path},
                ).rowcount
            assert changed == 1

        return flip_a_ciphertext_bit

    env: VaultEnv = request.getfixturevalue("vault_env")

    async def write_a_foreign_shape(org_id: UUID, path: str) -> None:
        env.root.secrets.kv.v2.create_or_update_secret(
            path=env.location(org_id, path),
            secret={"token": {"not": "a string"}},
            mount_point=VAULT_MOUNT,
        )

    return write_a_foreign_shape
