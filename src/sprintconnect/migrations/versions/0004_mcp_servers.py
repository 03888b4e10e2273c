"""MCP server registry, per-organization server quota and egress allowlist.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from sprintconnect.db.rls import drop_tenant_isolation, tenant_isolation
from sprintconnect.migrations.helpers import app_role, execute_all

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("organizations", sa.Column("server_quota", sa.Integer))
    op.add_column(
        "organizations",
        sa.Column("egress_allowlist", pg.ARRAY(sa.Text), nullable=False, server_default="{}"),
    )
    op.create_table(
        "mcp_servers",
        sa.Column("id", pg.UUID(as_uuid=True)),
        sa.Column("org_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("transport", sa.String(32), nullable=False),
        sa.Column("environment", sa.String(32), nullable=False),
        sa.Column("tags", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("auth_type", sa.String(32), nullable=False),
        sa.Column("auth_config", pg.JSONB, nullable=False),
        sa.Column("credentials_updated_at", sa.DateTime(timezone=True)),
        sa.Column("health_check_interval_seconds", sa.Integer, nullable=False),
        sa.Column("auto_discover", sa.Boolean, nullable=False),
        sa.Column("created_by_user_id", pg.UUID(as_uuid=True)),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("id", name="pk_mcp_servers"),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            ondelete="CASCADE",
            name="fk_mcp_servers_org_id_organizations",
        ),
    )
    op.create_index("ix_mcp_servers_org_created", "mcp_servers", ["org_id", "created_at", "id"])
    op.create_index("ix_mcp_servers_tags", "mcp_servers", ["tags"], postgresql_using="gin")
    # Names are unique per organization and environment, whatever their case.
    op.execute(
        "CREATE UNIQUE INDEX uq_mcp_servers_org_env_name "
        "ON mcp_servers (org_id, environment, lower(name))"
    )
    role = app_role()
    execute_all(
        [
            *tenant_isolation("mcp_servers"),
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON mcp_servers TO {role}",
        ]
    )


def downgrade() -> None:
    role = app_role()
    execute_all([f"REVOKE ALL ON mcp_servers FROM {role}", *drop_tenant_isolation("mcp_servers")])
    op.drop_table("mcp_servers")
    op.drop_column("organizations", "egress_allowlist")
    op.drop_column("organizations", "server_quota")
