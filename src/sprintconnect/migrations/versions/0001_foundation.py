"""Foundation: organizations, users, memberships, API keys, audit events; RLS and grants.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from sprintconnect.db.rls import drop_tenant_isolation, tenant_isolation
from sprintconnect.migrations.helpers import app_role, execute_all

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TENANT_TABLES = ("memberships", "api_keys", "audit_events")


def _timestamps() -> sa.Column[datetime]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("slug", sa.String(63), nullable=False),
        sa.Column("time_zone", sa.Text, nullable=False, server_default="UTC"),
        _timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_organizations"),
        sa.UniqueConstraint("slug", name="uq_organizations_slug"),
    )
    op.create_table(
        "users",
        sa.Column("id", pg.UUID(as_uuid=True)),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("display_name", sa.String(200)),
        sa.Column("is_super_admin", sa.Boolean, nullable=False, server_default=sa.false()),
        _timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_table(
        "memberships",
        sa.Column("id", pg.UUID(as_uuid=True)),
        sa.Column("org_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        _timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_memberships"),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            ondelete="CASCADE",
            name="fk_memberships_org_id_organizations",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], ondelete="CASCADE", name="fk_memberships_user_id_users"
        ),
        sa.UniqueConstraint("org_id", "user_id", name="uq_memberships_org_user"),
    )
    op.create_index("ix_memberships_user_id", "memberships", ["user_id"])
    op.create_table(
        "api_keys",
        sa.Column("id", pg.UUID(as_uuid=True)),
        sa.Column("org_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("scopes", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_by_user_id", pg.UUID(as_uuid=True)),
        sa.Column("created_by_user_id", pg.UUID(as_uuid=True)),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
        sa.Column("expiry_notified_at", sa.DateTime(timezone=True)),
        _timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("prefix", name="uq_api_keys_prefix"),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            ondelete="CASCADE",
            name="fk_api_keys_org_id_organizations",
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_user_id"],
            ["users.id"],
            ondelete="SET NULL",
            name="fk_api_keys_revoked_by_user_id_users",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            ondelete="SET NULL",
            name="fk_api_keys_created_by_user_id_users",
        ),
    )
    op.create_index("ix_api_keys_org_created", "api_keys", ["org_id", "created_at", "id"])
    op.create_table(
        "audit_events",
        sa.Column("id", pg.UUID(as_uuid=True)),
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("org_id", pg.UUID(as_uuid=True), nullable=False),
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
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            ondelete="RESTRICT",
            name="fk_audit_events_org_id_organizations",
        ),
    )
    op.create_index("ix_audit_events_org_seq", "audit_events", ["org_id", "seq"])

    role = app_role()
    statements = [
        # Organizations are fenced on their own id: a tenant sees only itself.
        "ALTER TABLE organizations ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE organizations FORCE ROW LEVEL SECURITY",
        "CREATE POLICY tenant_isolation ON organizations "
        "USING (id = nullif(current_setting('app.org_id', true), '')::uuid) "
        "WITH CHECK (id = nullif(current_setting('app.org_id', true), '')::uuid)",
    ]
    for table in TENANT_TABLES:
        statements += tenant_isolation(table)
    statements += [
        # The owner may read keys and orgs across tenants, but only through the two
        # SECURITY DEFINER functions below, which reveal ids and nothing else.
        "CREATE POLICY definer_lookup ON api_keys FOR SELECT TO CURRENT_USER USING (true)",
        "CREATE POLICY definer_lookup ON organizations FOR SELECT TO CURRENT_USER USING (true)",
        """
        CREATE FUNCTION sc_api_key_lookup(p_prefix text)
        RETURNS TABLE (key_id uuid, org_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
        AS $$ SELECT id, org_id FROM api_keys WHERE prefix = p_prefix $$
        """,
        """
        CREATE FUNCTION sc_org_lookup(p_ref text)
        RETURNS uuid
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
        AS $$ SELECT id FROM organizations WHERE slug = lower(p_ref) OR lower(name) = lower(p_ref)
              ORDER BY (slug = lower(p_ref)) DESC LIMIT 1 $$
        """,
        "REVOKE ALL ON FUNCTION sc_api_key_lookup(text) FROM PUBLIC",
        "REVOKE ALL ON FUNCTION sc_org_lookup(text) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION sc_api_key_lookup(text) TO {role}",
        f"GRANT EXECUTE ON FUNCTION sc_org_lookup(text) TO {role}",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON organizations TO {role}",
        f"GRANT SELECT, INSERT, UPDATE ON users TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON memberships TO {role}",
        f"GRANT SELECT, INSERT, UPDATE ON api_keys TO {role}",
        # Append-only: the application may add and read audit events, never change them.
        f"GRANT SELECT, INSERT ON audit_events TO {role}",
    ]
    execute_all(statements)


def downgrade() -> None:
    role = app_role()
    statements = [
        f"REVOKE ALL ON organizations, users, memberships, api_keys, audit_events FROM {role}",
        "DROP FUNCTION IF EXISTS sc_org_lookup(text)",
        "DROP FUNCTION IF EXISTS sc_api_key_lookup(text)",
        "DROP POLICY IF EXISTS definer_lookup ON organizations",
        "DROP POLICY IF EXISTS definer_lookup ON api_keys",
    ]
    for table in (*TENANT_TABLES, "organizations"):
        statements += drop_tenant_isolation(table)
    execute_all(statements)
    op.drop_table("audit_events")
    op.drop_table("api_keys")
    op.drop_table("memberships")
    op.drop_table("users")
    op.drop_table("organizations")
