"""Users (platform-wide identities) and their memberships in organizations."""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from sprintconnect.models.base import Base, CreatedAtMixin, IdMixin


class User(IdMixin, CreatedAtMixin, Base):
    """A platform-wide identity. It holds nothing an organization sets (see ``Membership``).

    The application role may insert ``id`` and ``email`` and change nothing: the super admin
    flag is the operator's (``sprintconnect admin set-super-admin``), so it has no Python
    default that an insert would send.
    """

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), nullable=False, unique=True)
    is_super_admin: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())


class Membership(IdMixin, CreatedAtMixin, Base):
    """A user in one organization, with what that organization says about them."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("org_id", "user_id", name="uq_memberships_org_user"),)

    org_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    display_name: Mapped[str | None] = mapped_column(String(200))
