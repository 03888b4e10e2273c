"""The Vault / OpenBao backend: one KV v2 mount, one path per organization and secret.

Secrets live at ``<mount>/<prefix>/orgs/<org id>/<path>``. The organization part comes only
from the UUID the caller is bound to and the rest is a validated path, so no input can name
another organization's subtree. The token needs, on that subtree, ``create``, ``read`` and
``update`` under ``<mount>/data/<prefix>/orgs/*`` and ``read`` and ``delete`` under
``<mount>/metadata/<prefix>/orgs/*``, and nothing more.

``hvac`` is synchronous, so calls run in worker threads of the store's own pool. Each call has
an overall deadline (``timeout``, the same number hvac uses per socket operation): a Vault that
trickles bytes never trips a socket timeout. A thread cannot be cancelled, so a call past its
deadline is abandoned to finish on its own; its own pool keeps such threads from starving other
users of the default executor, and requests waiting for a free thread still meet the deadline.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import re
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar
from uuid import UUID

import hvac
import structlog
from hvac import exceptions as vault_errors

from sprintconnect.secret.errors import (
    KeyRotationUnsupported,
    SecretIntegrityError,
    SecretNotFound,
    SecretStoreUnavailable,
)
from sprintconnect.secret.store import (
    Backend,
    KeyRotation,
    SecretMetadata,
    SecretValue,
    require_org,
    validate_path,
    validate_value,
)

log = structlog.get_logger(__name__)
T = TypeVar("T")
# Worker threads for Vault calls; calls beyond this wait for a thread (within their deadline).
MAX_THREADS = 8
_FRACTION = re.compile(r"(\.\d{6})\d+")


def _parse_time(value: str) -> datetime:
    """Vault's RFC 3339 times carry nanoseconds; Python keeps microseconds."""
    parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class VaultSecretStore:
    """Secrets in a Vault or OpenBao KV v2 mount, reached with ``hvac`` in worker threads."""

    backend: ClassVar[Backend] = "vault"

    def __init__(
        self,
        *,
        url: str,
        token: str,
        mount: str = "secret",
        path_prefix: str = "sprintconnect",
        namespace: str | None = None,
        timeout: int = 10,
        verify: bool | str = True,
    ) -> None:
        self._options: dict[str, Any] = {
            "url": url,
            "token": token,
            "namespace": namespace,
            "timeout": timeout,
            "verify": verify,
        }
        self._mount = validate_path(mount)
        self._prefix = validate_path(path_prefix)
        # hvac clients hold a requests session, which is not promised to be thread-safe:
        # each worker thread gets its own client.
        self._local = threading.local()
        self._clients: list[hvac.Client] = []
        self._lock = threading.Lock()
        self._deadline = float(timeout)
        self._threads = ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="vault")

    def __repr__(self) -> str:
        return f"VaultSecretStore(url={self._options['url']!r}, mount={self._mount!r})"

    def location(self, org_id: UUID, path: str) -> str:
        """Where the secret sits inside the mount."""
        return f"{self._prefix}/orgs/{require_org(org_id)}/{validate_path(path)}"

    def _client(self) -> hvac.Client:
        client: hvac.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = hvac.Client(**self._options)
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    async def _call(self, path: str, work: Callable[[Any], T], *, writing: bool = False) -> T:
        """Run ``work(kv_v2)`` in a thread; Vault errors become ours, without response text."""

        def run() -> T:
            return work(self._client().secrets.kv.v2)

        loop = asyncio.get_running_loop()
        call = functools.partial(contextvars.copy_context().run, run)
        try:
            async with asyncio.timeout(self._deadline):
                return await loop.run_in_executor(self._threads, call)
        except TimeoutError:  # before OSError: in Python 3.11 it is one
            log.warning("secret.vault_deadline", path=path, seconds=self._deadline)
            raise SecretStoreUnavailable(
                f"The secret store did not answer within {self._deadline:g}s for '{path}'."
            ) from None
        except vault_errors.InvalidPath:
            if writing:  # a write finds no path only when the mount itself is missing
                raise SecretStoreUnavailable(
                    f"The secret store has no KV v2 mount '{self._mount}' to hold '{path}'."
                ) from None
            raise SecretNotFound(path) from None
        except (vault_errors.Unauthorized, vault_errors.Forbidden) as exc:
            log.warning("secret.vault_refused", path=path, error=type(exc).__name__)
            raise SecretStoreUnavailable(
                f"The secret store refused access to '{path}'; check the token and its policy."
            ) from None
        except (vault_errors.VaultError, OSError) as exc:  # requests' errors are OSErrors
            log.warning("secret.vault_failed", path=path, error=type(exc).__name__)
            raise SecretStoreUnavailable(
                f"The secret store could not be reached for '{path}'."
            ) from None

    def _metadata(self, path: str, response: Any) -> SecretMetadata:
        data = response["data"]
        return SecretMetadata(
            path=path,
            version=int(data["current_version"]),
            created_at=_parse_time(data["created_time"]),
            updated_at=_parse_time(data["updated_time"]),
        )

    async def put(self, org_id: UUID, path: str, value: Mapping[str, str]) -> SecretMetadata:
        where, fields = self.location(org_id, path), validate_value(value)

        def work(kv: Any) -> Any:
            kv.create_or_update_secret(path=where, secret=fields, mount_point=self._mount)
            return kv.read_secret_metadata(path=where, mount_point=self._mount)

        metadata = self._metadata(path, await self._call(path, work, writing=True))
        log.info("secret.stored", org_id=str(org_id), path=path, version=metadata.version)
        return metadata

    async def get(self, org_id: UUID, path: str) -> SecretValue:
        where = self.location(org_id, path)
        response = await self._call(
            path,
            lambda kv: kv.read_secret_version(
                path=where, mount_point=self._mount, raise_on_deleted_version=True
            ),
        )
        fields = (response.get("data") or {}).get("data")
        if not isinstance(fields, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in fields.items()
        ):
            raise SecretIntegrityError(
                f"The secret at '{path}' does not hold string fields; it was not returned."
            )
        return SecretValue(fields)

    async def metadata(self, org_id: UUID, path: str) -> SecretMetadata:
        where = self.location(org_id, path)
        response = await self._call(
            path, lambda kv: kv.read_secret_metadata(path=where, mount_point=self._mount)
        )
        return self._metadata(path, response)

    async def exists(self, org_id: UUID, path: str) -> bool:
        try:
            await self.metadata(org_id, path)
        except SecretNotFound:
            return False
        return True

    async def delete(self, org_id: UUID, path: str) -> bool:
        where = self.location(org_id, path)

        def work(kv: Any) -> bool:
            try:
                kv.read_secret_metadata(path=where, mount_point=self._mount)
            except vault_errors.InvalidPath:
                return False
            kv.delete_metadata_and_all_versions(path=where, mount_point=self._mount)
            return True

        deleted = await self._call(path, work)
        if deleted:
            log.info("secret.deleted", org_id=str(org_id), path=path)
        return deleted

    async def rotate_keys(self) -> KeyRotation:
        raise KeyRotationUnsupported(
            "Vault and OpenBao keep their own encryption keys; rotate them on the server "
            "(for OpenBao: 'bao operator rotate')."
        )

    async def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.adapter.close()
        # Threads still stuck on a call past its deadline end with their own socket timeout.
        self._threads.shutdown(wait=False, cancel_futures=True)
