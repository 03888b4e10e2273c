"""Secret store (local backend): wrapped per-organization data keys and encrypted secrets.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from sprintconnect.db.rls import drop_tenant_isolation, tenant_isolation
from sprintconnect.migrations.helpers import app_role, execute_all

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("secret_data_keys", "secrets")


def upgrade() -> None:
    op.create_table(
        "secret_data_keys",
        sa.Column("org_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("kek_version", sa.Integer, nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
        sa.Column("nonce", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rewrapped_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("org_id", "version", name="pk_secret_data_keys"),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            ondelete="CASCADE",
            name="fk_secret_data_keys_org_id_organizations",
        ),
        sa.CheckConstraint("octet_length(nonce) = 12", name="ck_secret_data_keys_nonce_length"),
    )
    op.create_table(
        "secrets",
        sa.Column("org_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("nonce", sa.LargeBinary, nullable=False),
        sa.Column("dek_version", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "path", name="pk_secrets"),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            ondelete="CASCADE",
            name="fk_secrets_org_id_organizations",
        ),
        # NO ACTION (checked at the end of the statement): deleting an organization cascades
        # through both tables, while a data key that a secret still uses cannot be dropped.
        sa.ForeignKeyConstraint(
            ["org_id", "dek_version"],
            ["secret_data_keys.org_id", "secret_data_keys.version"],
            name="fk_secrets_org_id_secret_data_keys",
        ),
        sa.CheckConstraint("octet_length(nonce) = 12", name="ck_secrets_nonce_length"),
    )

    role = app_role()
    statements: list[str] = []
    for table in TABLES:
        statements += tenant_isolation(table)
    statements += [
        # Re-wrapping every organization's data keys under a new KEK must find the
        # organizations first; as in 0001, the owner may read across tenants only through a
        # SECURITY DEFINER function that reveals organization ids and nothing else.
        "CREATE POLICY definer_lookup ON secret_data_keys FOR SELECT TO CURRENT_USER USING (true)",
        """
        CREATE FUNCTION sc_secret_orgs_to_rewrap(p_kek_version integer)
        RETURNS SETOF uuid
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
        AS $$ SELECT DISTINCT org_id FROM secret_data_keys WHERE kek_version <> p_kek_version
              ORDER BY org_id $$
        """,
        "REVOKE ALL ON FUNCTION sc_secret_orgs_to_rewrap(integer) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION sc_secret_orgs_to_rewrap(integer) TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON secret_data_keys TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON secrets TO {role}",
    ]
    execute_all(statements)


def downgrade() -> None:
    role = app_role()
    statements = [
        f"REVOKE ALL ON secret_data_keys, secrets FROM {role}",
        "DROP FUNCTION IF EXISTS sc_secret_orgs_to_rewrap(integer)",
        "DROP POLICY IF EXISTS definer_lookup ON secret_data_keys",
    ]
    for table in TABLES:
        statements += drop_tenant_isolation(table)
    execute_all(statements)
    op.drop_table("secrets")
    op.drop_table("secret_data_keys")
