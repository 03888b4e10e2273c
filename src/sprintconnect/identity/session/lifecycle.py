"""What the app does for sign-in at shutdown (and the development provider at startup)."""

from __future__ import annotations

from typing import Any

from sprintconnect.identity.session.devidp import DevIdentityProvider
from sprintconnect.identity.session.renewal import settled


async def close_sign_in(state: Any) -> None:
    """Wait for background renewals, close cached key sets, the session store, and stop the
    development provider if this process runs it."""
    await settled()
    directory = getattr(state, "provider_directory", None)
    if directory is not None:
        await directory.aclose()
    store = getattr(state, "session_store", None)
    if store is not None:
        await store.aclose()
    dev: DevIdentityProvider | None = getattr(state, "dev_idp", None)
    if dev is not None:
        dev.stop()
        state.dev_idp = None
