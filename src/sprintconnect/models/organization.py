"""Organizations: the tenants."""

from __future__ import annotations

from sqlalchemy import Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from sprintconnect.models.base import Base, CreatedAtMixin, IdMixin


class Organization(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    slug: Mapped[str] = mapped_column(String(63), nullable=False, unique=True)
    time_zone: Mapped[str] = mapped_column(Text, nullable=False, default="UTC")
    # Bumped whenever what a search can find changes (servers, snapshots): search caches
    # key on it, so no stale answer outlives a change, in any process.
    catalog_generation: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    # Null: the platform default (SPRINTCONNECT_DEFAULT_SERVER_QUOTA).
    server_quota: Mapped[int | None] = mapped_column(Integer)
    # Hosts and CIDRs this organization's outbound requests may reach; empty: any allowed one.
    egress_allowlist: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, default=list, server_default="{}"
    )
