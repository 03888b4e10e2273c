"""Secret store fixtures: both backends behind one parametrized ``store`` fixture.

The vault backend runs against the real ``bao server -dev`` of ``tests/fixtures/vault.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import Engine, text

from sprintconnect.runtime import Runtime
from sprintconnect.secret import SecretStore, build_secret_store
from tests.fixtures.vault import VAULT_MOUNT, VaultEnv

Tamper = Callable[[UUID, str], Awaitable[None]]


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
