"""Idempotency keys: claimed requests and their stored answers, per organization and API key.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from sprintconnect.db.rls import drop_tenant_isolation, tenant_isolation
from sprintconnect.migrations.helpers import app_role, execute_all

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLE = "idempotency_keys"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("org_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("api_key_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("claim_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("body_sha256", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.Column("status_code", sa.SmallInteger),
        sa.Column("response_headers", pg.JSONB),
        sa.Column("response_body", sa.LargeBinary),
        # The claim's conflict target: INSERT ... ON CONFLICT makes concurrent claims race-safe.
        sa.PrimaryKeyConstraint("org_id", "api_key_id", "key", name="pk_idempotency_keys"),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            ondelete="CASCADE",
            name="fk_idempotency_keys_org_id_organizations",
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            ondelete="CASCADE",
            name="fk_idempotency_keys_api_key_id_api_keys",
        ),
        sa.CheckConstraint(
            "octet_length(body_sha256) = 32", name="ck_idempotency_keys_body_sha256_length"
        ),
        sa.CheckConstraint(
            "(status_code IS NULL) = (response_body IS NULL) "
            "AND (status_code IS NULL) = (response_headers IS NULL)",
            name="ck_idempotency_keys_response_complete",
        ),
    )
    op.create_index("ix_idempotency_keys_org_expires", TABLE, ["org_id", "expires_at"])
    role = app_role()
    execute_all(
        [
            *tenant_isolation(TABLE),
            # DELETE: a failed first request releases its key, and expired keys are purged.
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON {TABLE} TO {role}",
        ]
    )


def downgrade() -> None:
    role = app_role()
    execute_all([f"REVOKE ALL ON {TABLE} FROM {role}", *drop_tenant_isolation(TABLE)])
    op.drop_table(TABLE)
