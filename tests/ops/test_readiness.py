"""/readyz asks every configured dependency and names the one that failed."""

from __future__ import annotations

from tests.conftest import AppClientFactory, assert_problem
from tests.fixtures.vault import VaultEnv
from tests.integration.processes import free_port


async def test_a_secret_store_that_does_not_answer_is_named(app_client: AppClientFactory) -> None:
    client = await app_client(
        secret_store="vault",
        vault_url=f"http://127.0.0.1:{free_port()}",
        vault_token="unused-token",
    )
    body = assert_problem(await client.get("/readyz"), 503, "not-ready")
    assert body["checks"] == {"database": "ok", "secret_store": "fail"}
    assert body["detail"] == "Not reachable: secret_store."


async def test_a_vault_that_answers_is_ready(
    app_client: AppClientFactory, vault_env: VaultEnv
) -> None:
    client = await app_client(
        secret_store="vault", vault_url=vault_env.server.url, vault_token=vault_env.app_token
    )
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "secret_store": "ok"}}


async def test_a_redis_that_does_not_answer_is_named(app_client: AppClientFactory) -> None:
    client = await app_client(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    body = assert_problem(await client.get("/readyz"), 503, "not-ready")
    assert body["checks"] == {"database": "ok", "redis": "fail"}
