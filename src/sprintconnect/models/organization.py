"""Organizations: the tenants."""

from __future__ import annotations

from sqlalchemy import Integer, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
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
    # Health: the shortest check interval allowed (a platform quota; null: the platform
    # default, SPRINTCONNECT_HEALTH_MIN_INTERVAL_SECONDS), and when a failing server escalates
    # to degraded (consecutive failures, or seconds unhealthy); servers may override both.
    health_min_interval_seconds: Mapped[int | None] = mapped_column(Integer)
    health_failure_threshold: Mapped[int] = mapped_column(
        Integer, nullable=False, default=3, server_default="3"
    )
    health_degraded_after_seconds: Mapped[int] = mapped_column(
        Integer, nullable=False, default=900, server_default="900"
    )
    # JSON keys or dotted paths whose values audit entries keep only as a keyed digest.
    audit_sensitive_fields: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, default=list, server_default="{}"
    )
    # Gateway rate limits per capability class (``read``, ``write``, ``expensive``) in
    # ``limits`` notation; a class not named here has the platform's default.
    gateway_limits: Mapped[dict[str, str]] = mapped_column(
        JSONB, nullable=False, default=dict, server_default=text("'{}'::jsonb")
    )
