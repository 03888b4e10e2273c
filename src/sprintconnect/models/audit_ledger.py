"""The audit ledger's tables (migration 0017; decision 0007)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKeyConstraint,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from sprintconnect.models.base import Base


def _org_fk(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["org_id"],
        ["organizations.id"],
        ondelete="RESTRICT",
        name=f"fk_{table}_org_id_organizations",
    )


class AuditLeaf(Base):
    """A sequenced entry: its place in the organization's Merkle tree. Append-only."""

    __tablename__ = "audit_leaves"
    __table_args__ = (
        PrimaryKeyConstraint("org_id", "leaf_index", name="pk_audit_leaves"),
        UniqueConstraint("org_id", "event_id", name="uq_audit_leaves_org_id"),
        _org_fk("audit_leaves"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    leaf_index: Mapped[int] = mapped_column(BigInteger, nullable=False)
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    chain_hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    sequenced_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class AuditTreeNode(Base):
    """The hash of a perfect aligned subtree of ``2 ** level`` leaves (level 8 and up):
    leaves ``[node_index << level, (node_index + 1) << level)``. Append-only."""

    __tablename__ = "audit_tree_nodes"
    __table_args__ = (
        PrimaryKeyConstraint("org_id", "level", "node_index", name="pk_audit_tree_nodes"),
        _org_fk("audit_tree_nodes"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    level: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    node_index: Mapped[int] = mapped_column(BigInteger, nullable=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class AuditLedgerHead(Base):
    """The sequencer's state for one organization."""

    __tablename__ = "audit_ledger_heads"
    __table_args__ = (
        PrimaryKeyConstraint("org_id", name="pk_audit_ledger_heads"),
        _org_fk("audit_ledger_heads"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    tree_size: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    chain_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    frontier: Mapped[list[bytes]] = mapped_column(ARRAY(LargeBinary), nullable=False)
    horizon: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class AuditCheckpoint(Base):
    """A signed statement of an organization's tree: size, root, time. Append-only."""

    __tablename__ = "audit_checkpoints"
    __table_args__ = (
        PrimaryKeyConstraint("org_id", "tree_size", name="pk_audit_checkpoints"),
        _org_fk("audit_checkpoints"),
        ForeignKeyConstraint(
            ["key_id"],
            ["audit_signing_keys.key_id"],
            ondelete="RESTRICT",
            name="fk_audit_checkpoints_key_id_audit_signing_keys",
        ),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    tree_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    key_id: Mapped[str] = mapped_column(String(64), nullable=False)
    signature: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class AuditSigningKey(Base):
    """A platform checkpoint key (Ed25519); the private half sealed under the key ring."""

    __tablename__ = "audit_signing_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    private_nonce: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    private_sealed: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
