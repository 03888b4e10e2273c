"""SQL for the local secret store; every statement runs under the bound tenant (RLS)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.models import SecretDataKey, StoredSecret
from sprintconnect.secret.envelope import Sealed


class SecretRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # Data keys

    async def active_data_key(self, org_id: UUID) -> SecretDataKey | None:
        """The newest data key, share-locked so a rotation cannot retire it under a write."""
        stmt = (
            select(SecretDataKey)
            .where(SecretDataKey.org_id == org_id)
            .order_by(SecretDataKey.version.desc())
            .limit(1)
            .with_for_update(read=True)
        )
        return await self.session.scalar(stmt)

    async def data_keys_for_update(self, org_id: UUID) -> Sequence[SecretDataKey]:
        stmt = (
            select(SecretDataKey)
            .where(SecretDataKey.org_id == org_id)
            .order_by(SecretDataKey.version)
            .with_for_update()
        )
        return (await self.session.scalars(stmt)).all()

    async def add_data_key(
        self, org_id: UUID, version: int, wrapped: Sealed, kek_version: int, now: datetime
    ) -> bool:
        """Insert a data key version; ``False`` when a concurrent writer created it first."""
        stmt = (
            insert(SecretDataKey)
            .values(
                org_id=org_id,
                version=version,
                kek_version=kek_version,
                wrapped_key=wrapped.ciphertext,
                nonce=wrapped.nonce,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["org_id", "version"])
            .returning(SecretDataKey.version)
        )
        return (await self.session.scalar(stmt)) is not None

    async def drop_data_keys_before(self, org_id: UUID, version: int) -> int:
        result = await self.session.execute(
            delete(SecretDataKey)
            .where(SecretDataKey.org_id == org_id, SecretDataKey.version < version)
            .returning(SecretDataKey.version)
        )
        return len(result.all())

    async def orgs_to_rewrap(self, kek_version: int) -> list[UUID]:
        """Organizations holding a data key under another KEK (across tenants, ids only)."""
        rows = await self.session.execute(
            text("SELECT sc_secret_orgs_to_rewrap(:v) AS org_id"), {"v": kek_version}
        )
        return [row.org_id for row in rows]

    # Secrets

    async def get(self, org_id: UUID, path: str) -> StoredSecret | None:
        stmt = select(StoredSecret).where(StoredSecret.org_id == org_id, StoredSecret.path == path)
        return await self.session.scalar(stmt)

    async def get_with_key(
        self, org_id: UUID, path: str
    ) -> tuple[StoredSecret, SecretDataKey] | None:
        stmt = (
            select(StoredSecret, SecretDataKey)
            .join(
                SecretDataKey,
                (SecretDataKey.org_id == StoredSecret.org_id)
                & (SecretDataKey.version == StoredSecret.dek_version),
            )
            .where(StoredSecret.org_id == org_id, StoredSecret.path == path)
        )
        row = (await self.session.execute(stmt)).first()
        return (row[0], row[1]) if row else None

    async def secrets_for_update(self, org_id: UUID) -> Sequence[StoredSecret]:
        stmt = (
            select(StoredSecret)
            .where(StoredSecret.org_id == org_id)
            .order_by(StoredSecret.path)
            .with_for_update()
        )
        return (await self.session.scalars(stmt)).all()

    async def upsert(
        self, org_id: UUID, path: str, sealed: Sealed, dek_version: int, now: datetime
    ) -> StoredSecret:
        """Create the secret at version 1, or replace it and count the version up."""
        values = insert(StoredSecret).values(
            org_id=org_id,
            path=path,
            ciphertext=sealed.ciphertext,
            nonce=sealed.nonce,
            dek_version=dek_version,
            version=1,
            created_at=now,
            updated_at=now,
        )
        stmt = values.on_conflict_do_update(
            index_elements=["org_id", "path"],
            set_={
                "ciphertext": values.excluded.ciphertext,
                "nonce": values.excluded.nonce,
                "dek_version": values.excluded.dek_version,
                "version": StoredSecret.version + 1,
                "updated_at": values.excluded.updated_at,
            },
        ).returning(StoredSecret)
        result = await self.session.scalars(stmt, execution_options={"populate_existing": True})
        return result.one()

    async def delete(self, org_id: UUID, path: str) -> bool:
        result = await self.session.execute(
            delete(StoredSecret)
            .where(StoredSecret.org_id == org_id, StoredSecret.path == path)
            .returning(StoredSecret.path)
        )
        return result.first() is not None

    async def flush(self) -> None:
        await self.session.flush()
