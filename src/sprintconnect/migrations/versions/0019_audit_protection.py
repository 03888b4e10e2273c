"""Audit protection: per-organization sensitive fields, and who stood behind an actor.

- ``organizations.audit_sensitive_fields``: JSON keys or dotted paths whose values audit
  entries of the organization keep only as a keyed digest (``audit.redaction``).
- ``actor_user_id`` on both audit tables: the user behind an API key (its owner), so that
  "everything this user did" covers what their keys did.
- ``actor_super_admin`` on both audit tables: the acting user was a platform operator.
- ``api_keys.recent_clients``: fingerprints (16 hex of SHA-256 over address and user agent)
  of the last few clients a key was used from, so that a use from a new one is audited at
  once rather than at the next last-used window. The application role may update it, as it
  may ``last_used_at`` (0008).

The application role's table grants (0001, 0009) cover the new columns; entries written
before this revision read as no user and not a super admin.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from sprintconnect.migrations.helpers import app_role, execute_all

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_AUDIT_TABLES = ("audit_events", "platform_audit_events")


def upgrade() -> None:
    op.add_column(
        "organizations",
        sa.Column(
            "audit_sensitive_fields",
            postgresql.ARRAY(sa.Text()),
            nullable=False,
            server_default="{}",
        ),
    )
    for table in _AUDIT_TABLES:
        op.add_column(table, sa.Column("actor_user_id", sa.String(64), nullable=True))
        op.add_column(
            table,
            sa.Column("actor_super_admin", sa.Boolean(), nullable=False, server_default="false"),
        )
    op.add_column(
        "api_keys",
        sa.Column(
            "recent_clients", postgresql.ARRAY(sa.Text()), nullable=False, server_default="{}"
        ),
    )
    execute_all([f"GRANT UPDATE (recent_clients) ON api_keys TO {app_role()}"])


def downgrade() -> None:
    execute_all([f"REVOKE UPDATE (recent_clients) ON api_keys FROM {app_role()}"])
    op.drop_column("api_keys", "recent_clients")
    for table in _AUDIT_TABLES:
        op.drop_column(table, "actor_super_admin")
        op.drop_column(table, "actor_user_id")
    op.drop_column("organizations", "audit_sensitive_fields")
