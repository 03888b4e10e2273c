"""Where an endpoint's signing secrets live, and which ones sign a request now.

One secret-store entry per endpoint (``webhooks/<id>``): ``current``, and after a rotation
``previous``, which is sent as a second signature until the endpoint's
``previous_secret_expires_at``.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from uuid import UUID

from sprintconnect.kit.signing import new_secret
from sprintconnect.secret import SecretNotFound, SecretStore


def secret_path(endpoint_id: UUID) -> str:
    return f"webhooks/{endpoint_id}"


async def create(store: SecretStore, org_id: UUID, endpoint_id: UUID) -> str:
    """A new endpoint's secret, stored; the one time it is returned."""
    secret = new_secret()
    await store.put(org_id, secret_path(endpoint_id), {"current": secret})
    return secret


async def rotate(
    store: SecretStore, org_id: UUID, endpoint_id: UUID, *, keep_previous: bool
) -> str:
    """A new current secret; the old one stays as ``previous`` when asked (the overlap)."""
    secret = new_secret()
    fields = {"current": secret}
    if keep_previous:
        with contextlib.suppress(SecretNotFound, KeyError):
            fields["previous"] = (await store.get(org_id, secret_path(endpoint_id)))["current"]
    await store.put(org_id, secret_path(endpoint_id), fields)
    return secret


async def signing_secrets(
    store: SecretStore,
    org_id: UUID,
    endpoint_id: UUID,
    now: datetime,
    previous_until: datetime | None,
) -> list[str]:
    """The secrets that sign a request now: the current one, and the previous in its overlap."""
    stored = await store.get(org_id, secret_path(endpoint_id))
    secrets = [stored["current"]]
    if "previous" in stored and previous_until is not None and now < previous_until:
        secrets.append(stored["previous"])
    return secrets


async def forget(store: SecretStore, org_id: UUID, endpoint_id: UUID) -> None:
    await store.delete(org_id, secret_path(endpoint_id))
