"""The local secret store: per-organization data keys (wrapped) and secrets (encrypted).

Neither table holds plaintext. A data key is stored wrapped under a key-encryption key derived
from the master secret; a secret is stored encrypted under its organization's data key, with the
organization and path bound into the ciphertext as associated data.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from sprintconnect.models.base import Base


class SecretDataKey(Base):
    """One version of an organization's data key, wrapped (AES-256-GCM) under a KEK version."""

    __tablename__ = "secret_data_keys"
    __table_args__ = (CheckConstraint("octet_length(nonce) = 12", name="nonce_length"),)

    org_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("organizations.id", ondelete="CASCADE"),
        primary_key=True,
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    kek_version: Mapped[int] = mapped_column(Integer, nullable=False)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    nonce: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    rewrapped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StoredSecret(Base):
    """One secret of an organization, encrypted under the data key version it names."""

    __tablename__ = "secrets"
    __table_args__ = (
        # A secret can only name a data key its organization holds; a key in use cannot go.
        ForeignKeyConstraint(
            ["org_id", "dek_version"],
            ["secret_data_keys.org_id", "secret_data_keys.version"],
        ),
        CheckConstraint("octet_length(nonce) = 12", name="nonce_length"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("organizations.id", ondelete="CASCADE"),
        primary_key=True,
    )
    path: Mapped[str] = mapped_column(String(512), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    nonce: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    dek_version: Mapped[int] = mapped_column(Integer, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    def __repr__(self) -> str:
        # The default repr is harmless (ciphertext only) but long and noisy in logs.
        return f"StoredSecret(org_id={self.org_id}, path={self.path!r}, version={self.version})"
