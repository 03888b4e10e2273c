"""Audit ledger: Merkle leaves, signed checkpoints, signing keys (issue 13).

- ``audit_events.xact_id``: the inserting transaction's id (``pg_current_xact_id()`` as a
  bigint, a column default: ``audit.record`` stays a plain INSERT). The sequencer uses it to
  know which entries may still commit (decision 0007); entries older than this revision have
  none and are all committed.
- ``audit_leaves``: one row per sequenced entry, ``leaf_index`` contiguous from 0 per
  organization, with the entry's leaf hash (RFC 6962) and the hash chain. Append-only for the
  application (SELECT, INSERT).
- ``audit_tree_nodes``: the hash of every perfect aligned subtree of 256 leaves and more
  (``level`` 8 and up, ``node_index`` from 0 at each level), written by the sequencer with the
  leaves that complete it, so that a proof reads O(log n) nodes and a few hundred leaves.
  Append-only for the application (SELECT, INSERT).
- ``audit_ledger_heads``: per organization, the sequencer's state: tree size, chain head, the
  Merkle frontier (one hash per set bit of the size) and the transaction horizon.
- ``audit_checkpoints``: signed (tree size, root) statements; append-only for the application.
- ``audit_signing_keys``: the platform's Ed25519 checkpoint keys (not a tenant's table): the
  public key, the private key sealed under the master key ring, created and retired times.

``sc_audit_ledger_orgs()`` (SECURITY DEFINER, with ``definer_*`` policies as in 0015) lists the
organizations with entries to sequence or a tree grown past its last checkpoint, for the
periodic job; everything else runs bound to one tenant.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from sprintconnect.db.rls import drop_tenant_isolation, tenant_isolation
from sprintconnect.migrations.helpers import app_role, execute_all

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TENANT_TABLES = ("audit_leaves", "audit_tree_nodes", "audit_ledger_heads", "audit_checkpoints")
XACT_DEFAULT = "(pg_current_xact_id()::text)::bigint"


def _org_fk(table: str) -> sa.ForeignKeyConstraint:
    # Like audit_events: an organization with a ledger is not deleted from under it.
    return sa.ForeignKeyConstraint(
        ["org_id"],
        ["organizations.id"],
        ondelete="RESTRICT",
        name=f"fk_{table}_org_id_organizations",
    )


def upgrade() -> None:
    uuid = pg.UUID(as_uuid=True)
    # Added without a default first: existing rows stay NULL (no table rewrite).
    op.add_column("audit_events", sa.Column("xact_id", sa.BigInteger, nullable=True))
    op.execute(f"ALTER TABLE audit_events ALTER COLUMN xact_id SET DEFAULT {XACT_DEFAULT}")
    op.create_index("ix_audit_events_org_xact", "audit_events", ["org_id", "xact_id"])

    op.create_table(
        "audit_signing_keys",
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("public_key", sa.LargeBinary, nullable=False),
        sa.Column("private_nonce", sa.LargeBinary, nullable=False),
        sa.Column("private_sealed", sa.LargeBinary, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("retired_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("key_id", name="pk_audit_signing_keys"),
    )
    op.create_table(
        "audit_leaves",
        sa.Column("org_id", uuid, nullable=False),
        sa.Column("leaf_index", sa.BigInteger, nullable=False),
        sa.Column("event_id", uuid, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary, nullable=False),
        sa.Column("chain_hash", sa.LargeBinary, nullable=False),
        sa.Column(
            "sequenced_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("org_id", "leaf_index", name="pk_audit_leaves"),
        sa.UniqueConstraint("org_id", "event_id", name="uq_audit_leaves_org_id"),
        _org_fk("audit_leaves"),
    )
    op.create_table(
        "audit_tree_nodes",
        sa.Column("org_id", uuid, nullable=False),
        sa.Column("level", sa.SmallInteger, nullable=False),
        sa.Column("node_index", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "level", "node_index", name="pk_audit_tree_nodes"),
        _org_fk("audit_tree_nodes"),
    )
    op.create_table(
        "audit_ledger_heads",
        sa.Column("org_id", uuid, nullable=False),
        sa.Column("tree_size", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("chain_hash", sa.LargeBinary),
        sa.Column("frontier", pg.ARRAY(sa.LargeBinary), nullable=False),
        sa.Column("horizon", sa.BigInteger),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("org_id", name="pk_audit_ledger_heads"),
        _org_fk("audit_ledger_heads"),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("org_id", uuid, nullable=False),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("root_hash", sa.LargeBinary, nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "tree_size", name="pk_audit_checkpoints"),
        _org_fk("audit_checkpoints"),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["audit_signing_keys.key_id"],
            ondelete="RESTRICT",
            name="fk_audit_checkpoints_key_id_audit_signing_keys",
        ),
    )

    role = app_role()
    statements: list[str] = []
    for table in TENANT_TABLES:
        statements += tenant_isolation(table)
    statements += [
        f"GRANT SELECT, INSERT ON audit_leaves TO {role}",
        f"GRANT SELECT, INSERT ON audit_tree_nodes TO {role}",
        f"GRANT SELECT, INSERT, UPDATE ON audit_ledger_heads TO {role}",
        f"GRANT SELECT, INSERT ON audit_checkpoints TO {role}",
        # Keys are the platform's: created on first use, retired by rotation, never deleted.
        f"GRANT SELECT, INSERT ON audit_signing_keys TO {role}",
        f"GRANT UPDATE (retired_at) ON audit_signing_keys TO {role}",
        # The periodic job's one look across tenants (the function runs as the owner, which
        # FORCE'd row-level security also fences: hence the definer policies).
        "CREATE POLICY definer_audit_ledger ON audit_events FOR SELECT TO CURRENT_USER "
        "USING (true)",
        "CREATE POLICY definer_audit_ledger ON audit_leaves FOR SELECT TO CURRENT_USER "
        "USING (true)",
        "CREATE POLICY definer_audit_ledger ON audit_ledger_heads FOR SELECT TO CURRENT_USER "
        "USING (true)",
        "CREATE POLICY definer_audit_ledger ON audit_checkpoints FOR SELECT TO CURRENT_USER "
        "USING (true)",
        """
        CREATE FUNCTION sc_audit_ledger_orgs()
        RETURNS TABLE (org_id uuid, to_sequence boolean, tree_size bigint,
                       checkpoint_size bigint, checkpoint_at timestamptz)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
        AS $$
          SELECT o.id,
                 EXISTS (
                   SELECT 1 FROM audit_events e
                   WHERE e.org_id = o.id
                     AND (h.horizon IS NULL OR e.xact_id >= h.horizon)
                     AND NOT EXISTS (
                       SELECT 1 FROM audit_leaves l WHERE l.org_id = e.org_id AND l.event_id = e.id
                     )
                 ),
                 coalesce(h.tree_size, 0),
                 c.tree_size,
                 c.issued_at
          FROM organizations o
          LEFT JOIN audit_ledger_heads h ON h.org_id = o.id
          LEFT JOIN LATERAL (
            SELECT tree_size, issued_at FROM audit_checkpoints k
            WHERE k.org_id = o.id ORDER BY tree_size DESC LIMIT 1
          ) c ON true
          WHERE h.org_id IS NOT NULL OR EXISTS (SELECT 1 FROM audit_events e WHERE e.org_id = o.id)
        $$
        """,
        "REVOKE ALL ON FUNCTION sc_audit_ledger_orgs() FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION sc_audit_ledger_orgs() TO {role}",
    ]
    execute_all(statements)


def downgrade() -> None:
    role = app_role()
    execute_all(
        [
            f"REVOKE ALL ON {', '.join(TENANT_TABLES)}, audit_signing_keys FROM {role}",
            "DROP FUNCTION IF EXISTS sc_audit_ledger_orgs()",
            "DROP POLICY IF EXISTS definer_audit_ledger ON audit_events",
        ]
    )
    for table in TENANT_TABLES:
        execute_all([f"DROP POLICY IF EXISTS definer_audit_ledger ON {table}"])
        execute_all(drop_tenant_isolation(table))
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_ledger_heads")
    op.drop_table("audit_tree_nodes")
    op.drop_table("audit_leaves")
    op.drop_table("audit_signing_keys")
    op.drop_index("ix_audit_events_org_xact", table_name="audit_events")
    op.drop_column("audit_events", "xact_id")
