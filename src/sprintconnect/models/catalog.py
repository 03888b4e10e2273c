"""The searchable catalog: each server's capabilities as of its latest snapshot."""

from __future__ import annotations

import uuid

from sqlalchemy import Computed, ForeignKeyConstraint, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR, UUID
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
        # One server's rows within its organization (words and fuzzy join them per server).
        Index("ix_server_capabilities_org_server_kind", "org_id", "server_id", "kind"),
        # Words matching: the words of each name, and descriptions as English full-text.
        Index("ix_server_capabilities_name_words", "name_words", postgresql_using="gin"),
        Index(
            "ix_server_capabilities_description_fts", "description_vector", postgresql_using="gin"
        ),
        # Fuzzy matching (pg_trgm, on every supported server including the embedded one).
        Index(
            "ix_server_capabilities_name_trgm",
            text("lower(name) gin_trgm_ops"),
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
    # Computed by PostgreSQL (migration 0010): ``sc_words`` splits names at case changes and
    # at anything that is not a letter or digit.
    name_words: Mapped[list[str]] = mapped_column(
        ARRAY(Text), Computed("sc_words(name)", persisted=True)
    )
    description_vector: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed("to_tsvector('english'::regconfig, coalesce(description, ''))", persisted=True),
    )
