"""Declarative base with a naming convention, and column helpers every table shares."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, ForeignKeyConstraint, MetaData, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)


class CreatedAtMixin:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


def org_fk(table: str) -> ForeignKeyConstraint:
    """``org_id`` references its organization; the row goes with it."""
    return ForeignKeyConstraint(
        ["org_id"],
        ["organizations.id"],
        ondelete="CASCADE",
        name=f"fk_{table}_org_id_organizations",
    )


def server_fk(table: str) -> ForeignKeyConstraint:
    """``server_id`` references its MCP server; the row goes with it."""
    return ForeignKeyConstraint(
        ["server_id"],
        ["mcp_servers.id"],
        ondelete="CASCADE",
        name=f"fk_{table}_server_id_mcp_servers",
    )


def org_column() -> Mapped[uuid.UUID]:
    """A required ``org_id`` column that goes with its organization."""
    return mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    )


def user_column() -> Mapped[uuid.UUID]:
    """A required ``user_id`` column that goes with its user."""
    return mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
