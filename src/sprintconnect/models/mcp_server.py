"""Registered MCP servers. Credentials are not here: only which kind is set, and when."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sprintconnect.models.base import Base, CreatedAtMixin, IdMixin

if TYPE_CHECKING:
    from sprintconnect.models.health import ServerHealth


class McpServer(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "mcp_servers"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            ondelete="CASCADE",
            name="fk_mcp_servers_org_id_organizations",
        ),
        Index("ix_mcp_servers_org_created", "org_id", "created_at", "id"),
        Index("ix_mcp_servers_tags", "tags", postgresql_using="gin"),
        Index(
            "uq_mcp_servers_org_env_name",
            "org_id",
            "environment",
            func.lower(text("name")),
            unique=True,
        ),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    transport: Mapped[str] = mapped_column(String(32), nullable=False)
    environment: Mapped[str] = mapped_column(String(32), nullable=False)
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    auth_type: Mapped[str] = mapped_column(String(32), nullable=False)
    # Non-secret parts of the auth settings (header name, token URL, client id, certificate
    # fingerprint); the secret parts live in the secret store.
    auth_config: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    credentials_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    auto_discover: Mapped[bool] = mapped_column(Boolean, nullable=False)
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    current_snapshot_version: Mapped[int | None] = mapped_column(Integer)
    last_discovered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    # The health schedule and status (a trigger creates the row with the server; it goes with
    # it). Loaded with the server so that every view of a server shows its health.
    health: Mapped[ServerHealth | None] = relationship(
        lazy="selectin", viewonly=True, uselist=False
    )
