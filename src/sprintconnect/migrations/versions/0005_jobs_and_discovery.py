"""Jobs (procrastinate), the transactional outbox, discoveries and capability snapshots.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from procrastinate.schema import SchemaManager
from sqlalchemy.dialects import postgresql as pg

from sprintconnect.db.rls import drop_tenant_isolation, tenant_isolation
from sprintconnect.migrations.helpers import app_role, execute_all, org_fk, server_fk

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TENANT_TABLES = ("outbox_events", "discoveries", "capability_snapshots", "capability_items")
PROCRASTINATE_TABLES = (
    "procrastinate_jobs",
    "procrastinate_workers",
    "procrastinate_periodic_defers",
    "procrastinate_events",
)


def _created() -> sa.Column[object]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


def upgrade() -> None:
    # procrastinate's own schema, as its release ships it, run as one script on the raw
    # driver connection (its text holds '%' that a parameter-aware layer would misread).
    raw = op.get_bind().connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        cursor.execute(SchemaManager.get_schema())
    finally:
        cursor.close()

    op.create_table(
        "outbox_events",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("org_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("topic", sa.String(100), nullable=False),
        sa.Column("payload", pg.JSONB, nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        _created(),
        sa.Column("dispatched_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_events"),
        sa.UniqueConstraint("org_id", "idempotency_key", name="uq_outbox_events_org_key"),
        org_fk("outbox_events"),
    )
    op.execute(
        "CREATE INDEX ix_outbox_events_pending ON outbox_events (id) WHERE dispatched_at IS NULL"
    )
    op.add_column("mcp_servers", sa.Column("current_snapshot_version", sa.Integer))
    op.add_column("mcp_servers", sa.Column("last_discovered_at", sa.DateTime(timezone=True)))
    op.create_table(
        "capability_snapshots",
        sa.Column("id", pg.UUID(as_uuid=True)),
        sa.Column("org_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("server_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("protocol_version", sa.String(32)),
        sa.Column("server_info", pg.JSONB, nullable=False),
        sa.Column("capabilities", pg.JSONB, nullable=False),
        sa.Column("counts", pg.JSONB, nullable=False),
        sa.Column("diff", pg.JSONB),
        sa.Column("truncation", pg.JSONB, nullable=False),
        _created(),
        sa.Column("last_confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_capability_snapshots"),
        sa.UniqueConstraint("server_id", "version", name="uq_capability_snapshots_server_version"),
        org_fk("capability_snapshots"),
        server_fk("capability_snapshots"),
    )
    op.create_table(
        "capability_items",
        sa.Column("id", pg.UUID(as_uuid=True)),
        sa.Column("org_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("snapshot_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("server_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("description", sa.Text),
        sa.Column("body", pg.JSONB, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_capability_items"),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["capability_snapshots.id"],
            ondelete="CASCADE",
            name="fk_capability_items_snapshot_id_capability_snapshots",
        ),
        org_fk("capability_items"),
        server_fk("capability_items"),
    )
    op.create_index(
        "ix_capability_items_snapshot", "capability_items", ["snapshot_id", "kind", "name"]
    )
    op.create_table(
        "discoveries",
        sa.Column("id", pg.UUID(as_uuid=True)),
        sa.Column("org_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("server_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("phase", sa.String(40)),
        sa.Column("force_refresh", sa.Boolean, nullable=False),
        sa.Column("outcome", sa.String(20)),
        sa.Column("reason", sa.String(40)),
        sa.Column("error", sa.Text),
        sa.Column("snapshot_version", sa.Integer),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("requested_by_user_id", pg.UUID(as_uuid=True)),
        _created(),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_discoveries"),
        org_fk("discoveries"),
        server_fk("discoveries"),
    )
    op.create_index("ix_discoveries_server_created", "discoveries", ["server_id", "created_at"])
    # At most one discovery per server waits or runs: the same request made ten times at once
    # finds the one that is already there.
    op.execute(
        "CREATE UNIQUE INDEX uq_discoveries_active_server ON discoveries (server_id) "
        "WHERE status IN ('queued', 'in_progress')"
    )

    role = app_role()
    statements: list[str] = []
    for table in TENANT_TABLES:
        statements += tenant_isolation(table)
    statements += [
        "CREATE POLICY definer_relay ON outbox_events FOR ALL TO CURRENT_USER "
        "USING (true) WITH CHECK (true)",
        """
        CREATE FUNCTION sc_outbox_claim(p_limit integer)
        RETURNS TABLE (id bigint, org_id uuid, topic text, payload jsonb, idempotency_key text)
        LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public
        AS $$
          UPDATE outbox_events o SET dispatched_at = now()
          FROM (SELECT e.id FROM outbox_events e WHERE e.dispatched_at IS NULL
                ORDER BY e.id LIMIT p_limit FOR UPDATE SKIP LOCKED) c
          WHERE o.id = c.id
          RETURNING o.id, o.org_id, o.topic::text, o.payload, o.idempotency_key::text
        $$
        """,
        "REVOKE ALL ON FUNCTION sc_outbox_claim(integer) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION sc_outbox_claim(integer) TO {role}",
        f"GRANT SELECT, INSERT ON outbox_events TO {role}",
        f"GRANT SELECT, INSERT, UPDATE ON discoveries TO {role}",
        # Snapshots are history: added and confirmed, never rewritten or removed by the app.
        f"GRANT SELECT, INSERT, UPDATE (last_confirmed_at) ON capability_snapshots TO {role}",
        f"GRANT SELECT, INSERT ON capability_items TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(PROCRASTINATE_TABLES)} TO {role}",
        f"""
        DO $$
        DECLARE seq record;
        BEGIN
          FOR seq IN SELECT sequence_name FROM information_schema.sequences
                     WHERE sequence_schema = 'public' AND sequence_name LIKE 'procrastinate%'
          LOOP
            EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %I TO {role}', seq.sequence_name);
          END LOOP;
        END $$
        """,
    ]
    execute_all(statements)


def downgrade() -> None:
    role = app_role()
    execute_all(
        [
            f"REVOKE ALL ON {', '.join(TENANT_TABLES)} FROM {role}",
            "DROP FUNCTION IF EXISTS sc_outbox_claim(integer)",
            "DROP POLICY IF EXISTS definer_relay ON outbox_events",
        ]
    )
    for table in TENANT_TABLES:
        execute_all(drop_tenant_isolation(table))
    op.drop_table("discoveries")
    op.drop_table("capability_items")
    op.drop_table("capability_snapshots")
    op.drop_column("mcp_servers", "last_discovered_at")
    op.drop_column("mcp_servers", "current_snapshot_version")
    op.drop_table("outbox_events")
    op.execute(
        """
        DO $$
        DECLARE obj record;
        BEGIN
          DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers,
                               procrastinate_jobs, procrastinate_workers CASCADE;
          FOR obj IN SELECT p.oid::regprocedure AS signature, p.prokind FROM pg_proc p
                     JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname = 'public' AND p.proname LIKE 'procrastinate%'
          LOOP
            IF obj.prokind = 'p' THEN
              EXECUTE format('DROP PROCEDURE %s', obj.signature);
            ELSE
              EXECUTE format('DROP FUNCTION %s', obj.signature);
            END IF;
          END LOOP;
          FOR obj IN SELECT t.typname AS name FROM pg_type t
                     JOIN pg_namespace n ON n.oid = t.typnamespace
                     WHERE n.nspname = 'public' AND t.typname LIKE 'procrastinate%'
                       AND t.typtype IN ('e', 'c')
          LOOP
            EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', obj.name);
          END LOOP;
        END $$
        """
    )
