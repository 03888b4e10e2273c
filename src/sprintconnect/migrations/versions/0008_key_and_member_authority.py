"""Key and member authority: key kinds, owners that cannot vanish, org-owned profile fields.

- ``api_keys.kind``: ``user`` (owned by a member, ``created_by_user_id`` set) or ``service``
  (owned by no one, issued by an operator); a CHECK holds the two together, and deleting a
  user deletes their keys instead of leaving them owner-less. Owner-less keys that exist today
  were issued by the CLI (they become service keys) or lost their owner when a user was
  deleted: those are revoked here, audited, since they acted with their scopes alone.
- ``memberships.display_name``: what an organization calls a member is its own. The old
  ``users.display_name`` was set by whichever organization added the email first; it moves to
  that organization's membership (the one created with the user, in the same transaction).
- Column privileges: the application role may insert a user's ``id`` and ``email`` and update
  nothing on ``users`` (``is_super_admin`` is the operator's); on ``api_keys`` it may update
  only what revocation and use change, never a key's owner, kind or scopes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sprintconnect.migrations.helpers import app_role, execute_all

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Rewritten across tenants below: the owner reads and writes them with forced RLS lifted for
# this transaction only (a non-superuser owner would otherwise see no rows at all).
REWRITTEN = ("api_keys", "audit_events", "memberships")
KIND_CHECK = (
    "(kind = 'user' AND created_by_user_id IS NOT NULL) "
    "OR (kind = 'service' AND created_by_user_id IS NULL)"
)
# Owner-less keys that were not issued by an operator (the CLI audits as a 'system' actor):
# they were created through the API by a member who was deleted since.
ORPHANED = """
    k.created_by_user_id IS NULL AND k.revoked_at IS NULL AND EXISTS (
        SELECT 1 FROM audit_events e
        WHERE e.org_id = k.org_id AND e.tag = 'org:api_key:created'
          AND e.target_type = 'api_key' AND e.target_id = k.id::text
          AND e.actor_type <> 'system'
    )
"""
KEY_UPDATABLE = "revoked_at, revoked_by_user_id, last_used_at, expiry_notified_at"


def _rls(force: bool) -> list[str]:
    word = "FORCE" if force else "NO FORCE"
    return [f"ALTER TABLE {table} {word} ROW LEVEL SECURITY" for table in REWRITTEN]


def _created_by_fk(ondelete: str) -> None:
    op.drop_constraint("fk_api_keys_created_by_user_id_users", "api_keys", type_="foreignkey")
    op.create_foreign_key(
        op.f("fk_api_keys_created_by_user_id_users"),
        "api_keys",
        "users",
        ["created_by_user_id"],
        ["id"],
        ondelete=ondelete,
    )


def upgrade() -> None:
    role = app_role()
    execute_all(_rls(force=False))
    op.add_column("api_keys", sa.Column("kind", sa.String(16)))
    execute_all(
        [
            f"""
            INSERT INTO audit_events
                (id, org_id, tag, actor_type, actor_id, target_type, target_id, details)
            SELECT gen_random_uuid(), k.org_id, 'org:api_key:revoked', 'system',
                   'migration-0008', 'api_key', k.id::text,
                   jsonb_build_object('prefix', k.prefix, 'reason', 'owner_deleted')
            FROM api_keys k WHERE {ORPHANED}
            ORDER BY k.created_at, k.id
            """,
            f"UPDATE api_keys k SET revoked_at = now() WHERE {ORPHANED}",
            "UPDATE api_keys SET kind = CASE WHEN created_by_user_id IS NULL "
            "THEN 'service' ELSE 'user' END",
        ]
    )
    op.alter_column("api_keys", "kind", nullable=False)
    op.execute(f"ALTER TABLE api_keys ADD CONSTRAINT ck_api_keys_kind CHECK ({KIND_CHECK})")
    _created_by_fk("CASCADE")

    op.add_column("memberships", sa.Column("display_name", sa.String(200)))
    op.execute(
        "UPDATE memberships m SET display_name = u.display_name FROM users u "
        "WHERE u.id = m.user_id AND m.created_at = u.created_at AND u.display_name IS NOT NULL"
    )
    op.drop_column("users", "display_name")
    execute_all(
        [
            *_rls(force=True),
            # Operator commands (set-super-admin) audit in every organization of a user.
            "CREATE POLICY owner_read ON memberships FOR SELECT TO CURRENT_USER USING (true)",
            f"REVOKE INSERT, UPDATE ON users FROM {role}",
            f"GRANT INSERT (id, email) ON users TO {role}",
            f"REVOKE UPDATE ON api_keys FROM {role}",
            f"GRANT UPDATE ({KEY_UPDATABLE}) ON api_keys TO {role}",
        ]
    )


def downgrade() -> None:
    role = app_role()
    execute_all(
        [
            f"REVOKE UPDATE ({KEY_UPDATABLE}) ON api_keys FROM {role}",
            f"GRANT UPDATE ON api_keys TO {role}",
            f"REVOKE INSERT (id, email) ON users FROM {role}",
            f"GRANT INSERT, UPDATE ON users TO {role}",
            "DROP POLICY IF EXISTS owner_read ON memberships",
            *_rls(force=False),
        ]
    )
    op.add_column("users", sa.Column("display_name", sa.String(200)))
    op.execute(
        "UPDATE users u SET display_name = m.display_name FROM memberships m "
        "WHERE m.user_id = u.id AND m.created_at = u.created_at"
    )
    op.drop_column("memberships", "display_name")
    # Keys revoked above stay revoked: their owners are gone.
    _created_by_fk("SET NULL")
    op.execute("ALTER TABLE api_keys DROP CONSTRAINT ck_api_keys_kind")
    op.drop_column("api_keys", "kind")
    execute_all(_rls(force=True))
