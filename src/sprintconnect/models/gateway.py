"""The gateway: toolsets (what an MCP endpoint of the organization exposes) and the measurement
of every call made through the gateway or the playground."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sprintconnect.models.base import Base, CreatedAtMixin, IdMixin, org_fk, server_fk


class Toolset(IdMixin, CreatedAtMixin, Base):
    """A named selection of servers and tools, served at ``/mcp/{org slug}/{name}``."""

    __tablename__ = "toolsets"
    __table_args__ = (
        org_fk("toolsets"),
        UniqueConstraint("org_id", "name", name="uq_toolsets_org_name"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    name: Mapped[str] = mapped_column(String(63), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    # Null: the platform's default deadline for one upstream call.
    timeout_seconds: Mapped[float | None] = mapped_column(Float)
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    members: Mapped[list[ToolsetServer]] = relationship(
        order_by="ToolsetServer.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class ToolsetServer(IdMixin, Base):
    """One server of a toolset: all of its tools or the listed ones, under which names."""

    __tablename__ = "toolset_servers"
    __table_args__ = (
        org_fk("toolset_servers"),
        server_fk("toolset_servers"),
        ForeignKeyConstraint(
            ["toolset_id"],
            ["toolsets.id"],
            ondelete="CASCADE",
            name="fk_toolset_servers_toolset_id_toolsets",
        ),
        UniqueConstraint("toolset_id", "server_id", name="uq_toolset_servers_server"),
        Index("ix_toolset_servers_server", "org_id", "server_id"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    toolset_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    server_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    # Null: every tool the server's latest snapshot lists.
    tools: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    prefix: Mapped[str | None] = mapped_column(String(64))
    # Upstream name -> exposed name, and upstream name -> capability class.
    # Whether the server's prompts and resources are exposed too (tools are chosen by ``tools``).
    prompts: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=true())
    resources: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=true())
    renames: Mapped[dict[str, str]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    classes: Mapped[dict[str, str]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )


class ToolCall(Base):
    """One measured call (gateway or playground), written in batches off the request path."""

    __tablename__ = "tool_calls"
    __table_args__ = (
        org_fk("tool_calls"),
        Index("ix_tool_calls_org_at", "org_id", "at"),
        Index("ix_tool_calls_org_caller_at", "org_id", "caller_id", "at"),
        Index("ix_tool_calls_org_user_at", "org_id", "caller_user_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    # No foreign keys: a measurement outlives the toolset and the server it names.
    toolset_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    server_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    capability_class: Mapped[str | None] = mapped_column(String(16))
    caller_type: Mapped[str] = mapped_column(String(16), nullable=False)
    caller_id: Mapped[str] = mapped_column(String(64), nullable=False)
    # The person behind the credential (a key's owner, a session's user), when there is one.
    caller_user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    error_class: Mapped[str | None] = mapped_column(String(32))
    latency_ms: Mapped[float] = mapped_column(Float, nullable=False)
    request_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    response_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    est_tokens: Mapped[int] = mapped_column(Integer, nullable=False)
    decision_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
