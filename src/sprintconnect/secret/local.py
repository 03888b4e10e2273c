"""The local backend: secrets encrypted in PostgreSQL under per-organization data keys."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import ClassVar
from uuid import UUID

import structlog
from cryptography.exceptions import InvalidTag
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sprintconnect import audit
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.identity.principal import Actor
from sprintconnect.kit.clock import Clock
from sprintconnect.kit.secrets import KeyRing
from sprintconnect.models import SecretDataKey, StoredSecret
from sprintconnect.secret.envelope import KeyWrapper, Sealed, new_data_key, seal, unseal
from sprintconnect.secret.errors import SecretIntegrityError, SecretNotFound
from sprintconnect.secret.repository import SecretRepository
from sprintconnect.secret.store import (
    Backend,
    KeyRotation,
    SecretMetadata,
    SecretValue,
    decode_value,
    encode_value,
    require_org,
    validate_path,
    validate_value,
)

log = structlog.get_logger(__name__)
# Key rotations are run by an operator from the command line.
_OPERATOR = Actor("system", "cli")


@dataclass(frozen=True)
class DataKeyRotation:
    """The outcome of giving one organization a new data key."""

    org_id: UUID
    dek_version: int
    reencrypted: int


def _metadata(row: StoredSecret) -> SecretMetadata:
    return SecretMetadata(
        path=row.path, version=row.version, created_at=row.created_at, updated_at=row.updated_at
    )


class LocalSecretStore:
    """Envelope encryption (AES-256-GCM) in two tenant tables fenced by row-level security.

    Each operation runs in a short transaction of its own, bound to the organization it names:
    the store behaves like an external service whichever backend is configured.
    """

    backend: ClassVar[Backend] = "local"

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        keyring: KeyRing,
        *,
        kek_version: int,
        clock: Clock,
    ) -> None:
        if kek_version < 1:
            raise ValueError("kek_version starts at 1")
        self._sessions = sessions
        self._wrapper = KeyWrapper(keyring)
        self._kek_version = kek_version
        self._clock = clock

    @asynccontextmanager
    async def _tenant(self, org_id: UUID) -> AsyncIterator[SecretRepository]:
        async with self._sessions() as session, session.begin():
            await bind_tenant(session, org_id)
            yield SecretRepository(session)

    def _unwrap(self, row: SecretDataKey, path: str | None = None) -> bytes:
        try:
            return self._wrapper.unwrap(
                Sealed(row.nonce, row.wrapped_key),
                org_id=row.org_id,
                dek_version=row.version,
                kek_version=row.kek_version,
            )
        except (InvalidTag, ValueError):
            where = f" needed for '{path}'" if path else ""
            raise SecretIntegrityError(
                f"The organization's data key version {row.version}{where} failed its "
                "integrity check; nothing was decrypted."
            ) from None

    def _unseal(self, key: bytes, row: StoredSecret) -> bytes:
        try:
            return unseal(
                key,
                Sealed(row.nonce, row.ciphertext),
                org_id=row.org_id,
                dek_version=row.dek_version,
                path=row.path,
            )
        except (InvalidTag, ValueError):
            raise SecretIntegrityError(
                f"The secret at '{row.path}' failed its integrity check; it was not returned."
            ) from None

    async def _active_key(self, repo: SecretRepository, org_id: UUID) -> SecretDataKey:
        # Read twice before creating: a data-key rotation that held the lock we waited on
        # leaves the first read empty, and the second (a fresh snapshot) sees its new key.
        row = await repo.active_data_key(org_id) or await repo.active_data_key(org_id)
        if row is None:
            # The first secret of an organization creates its data key. A concurrent first
            # write may win the insert; either way the row read next is the one to use.
            wrapped = self._wrapper.wrap(
                new_data_key(), org_id=org_id, dek_version=1, kek_version=self._kek_version
            )
            await repo.add_data_key(org_id, 1, wrapped, self._kek_version, self._clock.now())
            row = await repo.active_data_key(org_id)
            assert row is not None
        return row

    async def put(self, org_id: UUID, path: str, value: Mapping[str, str]) -> SecretMetadata:
        org_id, path, fields = require_org(org_id), validate_path(path), validate_value(value)
        async with self._tenant(org_id) as repo:
            key_row = await self._active_key(repo, org_id)
            sealed = seal(
                self._unwrap(key_row, path),
                encode_value(fields),
                org_id=org_id,
                dek_version=key_row.version,
                path=path,
            )
            row = await repo.upsert(org_id, path, sealed, key_row.version, self._clock.now())
            metadata = _metadata(row)
        log.info("secret.stored", org_id=str(org_id), path=path, version=metadata.version)
        return metadata

    async def get(self, org_id: UUID, path: str) -> SecretValue:
        org_id, path = require_org(org_id), validate_path(path)
        async with self._tenant(org_id) as repo:
            found = await repo.get_with_key(org_id, path)
        if found is None:
            raise SecretNotFound(path)
        row, key_row = found
        fields = decode_value(self._unseal(self._unwrap(key_row, path), row))
        if fields is None:
            raise SecretIntegrityError(f"The secret at '{path}' does not decode; not returned.")
        return SecretValue(fields)

    async def metadata(self, org_id: UUID, path: str) -> SecretMetadata:
        org_id, path = require_org(org_id), validate_path(path)
        async with self._tenant(org_id) as repo:
            row = await repo.get(org_id, path)
            if row is None:
                raise SecretNotFound(path)
            return _metadata(row)

    async def exists(self, org_id: UUID, path: str) -> bool:
        org_id, path = require_org(org_id), validate_path(path)
        async with self._tenant(org_id) as repo:
            return await repo.get(org_id, path) is not None

    async def delete(self, org_id: UUID, path: str) -> bool:
        org_id, path = require_org(org_id), validate_path(path)
        async with self._tenant(org_id) as repo:
            deleted = await repo.delete(org_id, path)
        if deleted:
            log.info("secret.deleted", org_id=str(org_id), path=path)
        return deleted

    async def rotate_keys(self) -> KeyRotation:
        """Re-wrap, organization by organization, every data key not under the current KEK.

        Each organization commits on its own, so an interrupted run is simply run again; an
        organization whose key fails its integrity check is reported and the others go on.
        """
        target = self._kek_version
        async with self._sessions() as session, session.begin():
            org_ids = await SecretRepository(session).orgs_to_rewrap(target)
        rewrapped = 0
        failed: list[UUID] = []
        for org_id in org_ids:
            try:
                rewrapped += await self._rewrap(org_id, target)
            except SecretIntegrityError:
                log.error("secret.kek_rotation_failed", org_id=str(org_id), kek_version=target)
                failed.append(org_id)
        log.info(
            "secret.kek_rotated", kek_version=target, organizations=len(org_ids), keys=rewrapped
        )
        return KeyRotation(
            backend=self.backend,
            kek_version=target,
            organizations=len(org_ids),
            rewrapped_keys=rewrapped,
            failed_organizations=tuple(failed),
        )

    async def _rewrap(self, org_id: UUID, target: int) -> int:
        count = 0
        async with self._tenant(org_id) as repo:
            for row in await repo.data_keys_for_update(org_id):
                if row.kek_version == target:
                    continue
                wrapped = self._wrapper.wrap(
                    self._unwrap(row), org_id=org_id, dek_version=row.version, kek_version=target
                )
                row.wrapped_key, row.nonce, row.kek_version = (
                    wrapped.ciphertext,
                    wrapped.nonce,
                    target,
                )
                row.rewrapped_at = self._clock.now()
                count += 1
            if count:
                await audit.record(
                    repo.session,
                    audit.AuditTag.SECRET_DATA_KEYS_REWRAPPED,
                    org_id=org_id,
                    actor=_OPERATOR,
                    target=audit.Target("secret_store"),
                    details={"kek_version": target, "data_keys": count},
                )
        return count

    async def rotate_data_key(self, org_id: UUID) -> DataKeyRotation:
        """Give the organization a new data key, re-encrypt its secrets, drop the old keys."""
        org_id = require_org(org_id)
        async with self._tenant(org_id) as repo:
            old = {row.version: row for row in await repo.data_keys_for_update(org_id)}
            version = max(old, default=0) + 1
            key = new_data_key()
            wrapped = self._wrapper.wrap(
                key, org_id=org_id, dek_version=version, kek_version=self._kek_version
            )
            await repo.add_data_key(org_id, version, wrapped, self._kek_version, self._clock.now())
            keys = {v: self._unwrap(row) for v, row in old.items()}
            secrets = await repo.secrets_for_update(org_id)
            for row in secrets:
                plaintext = self._unseal(keys[row.dek_version], row)
                sealed = seal(key, plaintext, org_id=org_id, dek_version=version, path=row.path)
                row.ciphertext, row.nonce, row.dek_version = (
                    sealed.ciphertext,
                    sealed.nonce,
                    version,
                )
            await repo.flush()
            await repo.drop_data_keys_before(org_id, version)
            await audit.record(
                repo.session,
                audit.AuditTag.SECRET_DATA_KEY_ROTATED,
                org_id=org_id,
                actor=_OPERATOR,
                target=audit.Target("secret_store"),
                details={"dek_version": version, "reencrypted_secrets": len(secrets)},
            )
        log.info(
            "secret.dek_rotated", org_id=str(org_id), dek_version=version, secrets=len(secrets)
        )
        return DataKeyRotation(org_id=org_id, dek_version=version, reencrypted=len(secrets))

    async def close(self) -> None:
        """Nothing to release: the sessions belong to the runtime's database."""
