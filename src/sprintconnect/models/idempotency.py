"""Idempotency keys: one claimed request per (organization, caller, key) and its answer.

The stored answer body is sealed (AES-256-GCM) because it can hold a secret shown only once,
such as a newly issued API key.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from sprintconnect.models.base import Base


class IdempotencyKey(Base):
    """A claimed key: in progress while ``status_code`` is null, then the answer to replay."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        # The conflict target of the claim: keys never collide across tenants or credentials.
        PrimaryKeyConstraint("org_id", "caller_id", "key", name="pk_idempotency_keys"),
        ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            ondelete="CASCADE",
            name="fk_idempotency_keys_org_id_organizations",
        ),
        Index("ix_idempotency_keys_org_expires", "org_id", "expires_at"),
        CheckConstraint("octet_length(body_sha256) = 32", name="body_sha256_length"),
        CheckConstraint(
            "(status_code IS NULL) = (response_body IS NULL) "
            "AND (status_code IS NULL) = (response_headers IS NULL)",
            name="response_complete",
        ),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    # Whose key this is: the API key that claimed it, or the user behind the access token or
    # browser session that did (0022).
    caller_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    # Fencing token: a claim taken over after its lease ran out cannot be completed by the
    # request that lost it.
    claim_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    method: Mapped[str] = mapped_column(String(16), nullable=False)
    path: Mapped[str] = mapped_column(Text, nullable=False)
    body_sha256: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    locked_until: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    response_headers: Mapped[list[Any] | None] = mapped_column(JSONB(none_as_null=True))
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
