"""Access control: custom roles, role assignments, versioned organization policies.

Memberships lose their single ``role`` column: roles are now assignments, any number per member.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from sprintconnect.db.rls import drop_tenant_isolation, tenant_isolation
from sprintconnect.migrations.helpers import app_role, execute_all

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ("roles", "role_assignments", "policy_versions")


def upgrade() -> None:
    op.create_table(
        "roles",
        sa.Column("id", pg.UUID(as_uuid=True)),
        sa.Column("org_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("permissions", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("extends", pg.ARRAY(sa.Text), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("id", name="pk_roles"),
        sa.UniqueConstraint("org_id", "name", name="uq_roles_org_name"),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            ondelete="CASCADE",
            name="fk_roles_org_id_organizations",
        ),
    )
    op.create_table(
        "role_assignments",
        sa.Column("org_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("role_name", sa.String(63), nullable=False),
        sa.Column("granted_by_user_id", pg.UUID(as_uuid=True)),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("org_id", "user_id", "role_name", name="pk_role_assignments"),
        sa.ForeignKeyConstraint(
            ["org_id", "user_id"],
            ["memberships.org_id", "memberships.user_id"],
            ondelete="CASCADE",
            name="fk_role_assignments_org_id_memberships",
        ),
    )
    op.create_table(
        "policy_versions",
        sa.Column("org_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("created_by_user_id", pg.UUID(as_uuid=True)),
        sa.Column("rolled_back_from", sa.Integer),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("org_id", "version", name="pk_policy_versions"),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            ondelete="CASCADE",
            name="fk_policy_versions_org_id_organizations",
        ),
    )
    # Existing members keep their single role as an assignment.
    op.execute(
        "INSERT INTO role_assignments (org_id, user_id, role_name, created_at) "
        "SELECT org_id, user_id, role, created_at FROM memberships"
    )
    op.drop_column("memberships", "role")

    role = app_role()
    statements: list[str] = []
    for table in TABLES:
        statements += tenant_isolation(table)
    statements += [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON roles TO {role}",
        f"GRANT SELECT, INSERT, DELETE ON role_assignments TO {role}",
        # Versions are history: the application may add them, never rewrite them.
        f"GRANT SELECT, INSERT ON policy_versions TO {role}",
    ]
    execute_all(statements)


def downgrade() -> None:
    role = app_role()
    op.add_column(
        "memberships", sa.Column("role", sa.String(64), nullable=False, server_default="viewer")
    )
    # Keep the most powerful built-in role each member had.
    op.execute(
        """
        UPDATE memberships m SET role = a.role_name FROM (
          SELECT DISTINCT ON (org_id, user_id) org_id, user_id, role_name FROM role_assignments
          WHERE role_name IN ('admin', 'engineer', 'analyst', 'viewer')
          ORDER BY org_id, user_id,
                   array_position(ARRAY['admin','engineer','analyst','viewer'], role_name)
        ) a WHERE a.org_id = m.org_id AND a.user_id = m.user_id
        """
    )
    op.alter_column("memberships", "role", server_default=None)
    statements = [f"REVOKE ALL ON roles, role_assignments, policy_versions FROM {role}"]
    for table in TABLES:
        statements += drop_tenant_isolation(table)
    execute_all(statements)
    op.drop_table("policy_versions")
    op.drop_table("role_assignments")
    op.drop_table("roles")
