"""Platform audit: what platform operators do to the platform itself, such as replaying jobs.

``platform_audit_events`` has the columns of ``audit_events`` without ``org_id``: it is not a
tenant's table, and its entries may concern no organization at all. The application role may
append to it and nothing else (no SELECT, UPDATE or DELETE); reading is for the owner role.
Where an action concerns an organization's work (a discovery job), that organization's own
``audit_events`` get an entry too; this table is the platform's complete record.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from sprintconnect.migrations.helpers import app_role, execute_all

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "platform_audit_events",
        sa.Column("id", pg.UUID(as_uuid=True)),
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column(
            "occurred_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("tag", sa.String(128), nullable=False),
        sa.Column("actor_type", sa.String(32), nullable=False),
        sa.Column("actor_id", sa.String(64)),
        sa.Column("target_type", sa.String(64)),
        sa.Column("target_id", sa.String(64)),
        sa.Column("details", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("request_id", sa.String(128)),
        sa.Column("ip", pg.INET),
        sa.Column("user_agent", sa.String(512)),
        sa.PrimaryKeyConstraint("id", name="pk_platform_audit_events"),
    )
    op.create_index("ix_platform_audit_events_seq", "platform_audit_events", ["seq"])
    execute_all([f"GRANT INSERT ON platform_audit_events TO {app_role()}"])


def downgrade() -> None:
    execute_all([f"REVOKE ALL ON platform_audit_events FROM {app_role()}"])
    op.drop_index("ix_platform_audit_events_seq", table_name="platform_audit_events")
    op.drop_table("platform_audit_events")
