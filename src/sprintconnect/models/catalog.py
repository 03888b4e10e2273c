"""The searchable catalog: each server's capabilities as of its latest snapshot."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKeyConstraint, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from sprintconnect.models.base import Base, IdMixin


class ServerCapability(IdMixin, Base):
    """Replaced as a whole for a server whenever a new snapshot of it is stored."""

    __tablename__ = "server_capabilities"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            ondelete="CASCADE",
            name="fk_server_capabilities_org_id_organizations",
        ),
        ForeignKeyConstraint(
            ["server_id"],
            ["mcp_servers.id"],
            ondelete="CASCADE",
            name="fk_server_capabilities_server_id_mcp_servers",
        ),
        # Exact lookups: org first, so every search stays inside one tenant's rows.
        Index("ix_server_capabilities_org_kind_name", "org_id", "kind", "name"),
        Index("ix_server_capabilities_server", "server_id"),
        Index(
            "ix_server_capabilities_fts",
            text("to_tsvector('simple', name || ' ' || coalesce(description, ''))"),
            postgresql_using="gin",
        ),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    server_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    item_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    snapshot_version: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
