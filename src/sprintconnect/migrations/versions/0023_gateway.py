"""The gateway: toolsets, their servers, measured calls, per-organization class limits.

``toolsets`` names what one MCP endpoint (``/mcp/{org slug}/{name}``) exposes; each row of
``toolset_servers`` adds one server to it (all its tools or the listed ones, with a prefix,
renames and capability classes). ``tool_calls`` holds one measurement per gateway or playground
call, written in batches; it keeps no foreign key to toolsets or servers, so a measurement
outlives what it names. ``organizations.gateway_limits`` holds the organization's rate limits
per capability class. ``sc_tool_calls_prune`` deletes measurements past their retention, of
every tenant, in bounded batches (the periodic ``gateway.prune`` job).

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from sprintconnect.db.rls import drop_tenant_isolation, tenant_isolation
from sprintconnect.migrations.helpers import (
    app_role,
    execute_all,
    execute_only_by,
    org_fk,
    server_fk,
)

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

TABLES = ("toolsets", "toolset_servers", "tool_calls")
PRUNE_SIGNATURE = "sc_tool_calls_prune(timestamptz, integer)"
EMPTY_OBJECT = sa.text("'{}'::jsonb")


def upgrade() -> None:
    uuid = pg.UUID(as_uuid=True)
    op.add_column(
        "organizations",
        sa.Column("gateway_limits", pg.JSONB(), nullable=False, server_default=EMPTY_OBJECT),
    )
    op.create_table(
        "toolsets",
        sa.Column("id", uuid, nullable=False),
        sa.Column("org_id", uuid, nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("timeout_seconds", sa.Float()),
        sa.Column("created_by_user_id", uuid),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("id", name="pk_toolsets"),
        sa.UniqueConstraint("org_id", "name", name="uq_toolsets_org_name"),
        org_fk("toolsets"),
    )
    op.create_table(
        "toolset_servers",
        sa.Column("id", uuid, nullable=False),
        sa.Column("org_id", uuid, nullable=False),
        sa.Column("toolset_id", uuid, nullable=False),
        sa.Column("server_id", uuid, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tools", pg.ARRAY(sa.Text())),
        sa.Column("prefix", sa.String(64)),
        sa.Column("prompts", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("resources", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("renames", pg.JSONB(), nullable=False, server_default=EMPTY_OBJECT),
        sa.Column("classes", pg.JSONB(), nullable=False, server_default=EMPTY_OBJECT),
        sa.PrimaryKeyConstraint("id", name="pk_toolset_servers"),
        sa.UniqueConstraint("toolset_id", "server_id", name="uq_toolset_servers_server"),
        org_fk("toolset_servers"),
        server_fk("toolset_servers"),
        sa.ForeignKeyConstraint(
            ["toolset_id"],
            ["toolsets.id"],
            ondelete="CASCADE",
            name="fk_toolset_servers_toolset_id_toolsets",
        ),
    )
    op.create_index("ix_toolset_servers_server", "toolset_servers", ["org_id", "server_id"])
    op.create_table(
        "tool_calls",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("org_id", uuid, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("toolset_id", uuid),
        sa.Column("server_id", uuid),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("capability_class", sa.String(16)),
        sa.Column("caller_type", sa.String(16), nullable=False),
        sa.Column("caller_id", sa.String(64), nullable=False),
        sa.Column("caller_user_id", uuid),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_class", sa.String(32)),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("request_bytes", sa.Integer(), nullable=False),
        sa.Column("response_bytes", sa.Integer(), nullable=False),
        sa.Column("est_tokens", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.String(64)),
        sa.Column("details", pg.JSONB(), nullable=False, server_default=EMPTY_OBJECT),
        sa.PrimaryKeyConstraint("id", name="pk_tool_calls"),
        org_fk("tool_calls"),
    )
    op.create_index("ix_tool_calls_org_at", "tool_calls", ["org_id", "at"])
    op.create_index("ix_tool_calls_org_caller_at", "tool_calls", ["org_id", "caller_id", "at"])
    op.create_index("ix_tool_calls_org_user_at", "tool_calls", ["org_id", "caller_user_id", "at"])
    role = app_role()
    statements: list[str] = []
    for table in TABLES:
        statements += tenant_isolation(table)
    statements += [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON toolsets, toolset_servers TO {role}",
        # Measurements are appended and read; retention deletes them.
        f"GRANT SELECT, INSERT, DELETE ON tool_calls TO {role}",
        f"GRANT USAGE ON SEQUENCE tool_calls_id_seq TO {role}",
        # Retention reads and deletes across tenants, through the function below only.
        "CREATE POLICY definer_retention ON tool_calls FOR ALL TO CURRENT_USER "
        "USING (true) WITH CHECK (true)",
        """
        CREATE FUNCTION sc_tool_calls_prune(p_before timestamptz, p_limit integer)
        RETURNS bigint
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public
        AS $$
        DECLARE gone_count bigint;
        BEGIN
          WITH gone AS (
            DELETE FROM tool_calls WHERE id IN (
              SELECT c.id FROM tool_calls c WHERE c.at < p_before LIMIT p_limit)
            RETURNING 1)
          SELECT count(*) INTO gone_count FROM gone;
          RETURN gone_count;
        END
        $$
        """,
        *execute_only_by(role, [PRUNE_SIGNATURE]),
    ]
    execute_all(statements)


def downgrade() -> None:
    statements: list[str] = [
        f"DROP FUNCTION IF EXISTS {PRUNE_SIGNATURE}",
        "DROP POLICY IF EXISTS definer_retention ON tool_calls",
    ]
    for table in TABLES:
        statements += drop_tenant_isolation(table)
    execute_all(statements)
    op.drop_index("ix_tool_calls_org_user_at", table_name="tool_calls")
    op.drop_index("ix_tool_calls_org_caller_at", table_name="tool_calls")
    op.drop_index("ix_tool_calls_org_at", table_name="tool_calls")
    op.drop_table("tool_calls")
    op.drop_index("ix_toolset_servers_server", table_name="toolset_servers")
    op.drop_table("toolset_servers")
    op.drop_table("toolsets")
    op.drop_column("organizations", "gateway_limits")
