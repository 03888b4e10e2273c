"""A Vault that never finishes answering: every store call ends at its deadline.

The server trickles one byte of an endless response header every few tenths of a second, so
hvac's per-socket timeout never fires; only the store's overall deadline can end the call.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest

from sprintconnect.secret import SecretStoreUnavailable, VaultSecretStore
from tests.fixtures.hanging import hanging

# A bound on the test, so that a regression fails it instead of hanging the run.
GUARD_SECONDS = 60


@pytest.mark.parametrize("operation", ["get", "put", "delete"])
async def test_a_trickling_vault_fails_at_the_deadline(operation: str) -> None:
    async with hanging("trickle") as vault, asyncio.timeout(GUARD_SECONDS):
        store = VaultSecretStore(url=vault.base_url, token="s.never-used", timeout=1)
        org = uuid.uuid4()
        calls: dict[str, Callable[[], Awaitable[object]]] = {
            "get": lambda: store.get(org, "servers/s1/auth"),
            "put": lambda: store.put(org, "servers/s1/auth", {"token": "t"}),
            "delete": lambda: store.delete(org, "servers/s1/auth"),
        }
        try:
            with pytest.raises(SecretStoreUnavailable, match="did not answer within 1s"):
                await calls[operation]()
            assert vault.requests == 1
        finally:
            vault.release()  # the abandoned worker thread's connection closes
            await store.close()
