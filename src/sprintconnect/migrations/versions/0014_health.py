"""Health monitoring: schedules, status, checks, hourly rollups and transitions (issue 12).

``server_health`` holds one row per server: its check schedule (interval, type, on/off, the
escalation overrides), its lease for the worker that checks it, and its current status. A
trigger on ``mcp_servers`` inserts the row with every new server, due at a random point of its
first interval so that servers registered together do not fall due together; the revision
creates the row for every existing server and moves ``mcp_servers.health_check_interval_seconds``
into it. ``health_checks`` keeps raw check results, ``health_rollups`` one row per server and hour
(count, failures, a mergeable latency histogram), ``health_transitions`` every status change.
Organizations get their minimum interval (a platform quota, null: the setting) and their
escalation thresholds.

Workers claim due servers of every tenant through ``sc_health_claim`` (SECURITY DEFINER, with a
``definer_*`` policy as ``sc_outbox_claim`` does) and record each result bound to its tenant.
``sc_health_stale_count`` counts, across tenants, the enabled servers whose last check is older
than twice their interval (the staleness gauge).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from sprintconnect.db.rls import drop_tenant_isolation, tenant_isolation
from sprintconnect.migrations.helpers import app_role, execute_all, org_fk, server_fk

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TENANT_TABLES = ("server_health", "health_checks", "health_rollups", "health_transitions")
CLAIM_SIGNATURE = "sc_health_claim(integer, integer, text, timestamptz)"
STALE_SIGNATURE = "sc_health_stale_count(timestamptz)"
PRUNE_SIGNATURE = "sc_health_prune(timestamptz, timestamptz, integer)"


def _ts(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fks(table: str) -> list[sa.ForeignKeyConstraint]:
    return [org_fk(table), server_fk(table)]


def upgrade() -> None:
    op.add_column("organizations", sa.Column("health_min_interval_seconds", sa.Integer))
    op.add_column(
        "organizations",
        sa.Column("health_failure_threshold", sa.Integer, nullable=False, server_default="3"),
    )
    op.add_column(
        "organizations",
        sa.Column(
            "health_degraded_after_seconds", sa.Integer, nullable=False, server_default="900"
        ),
    )
    op.create_table(
        "server_health",
        sa.Column("server_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("org_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("check_type", sa.Text, nullable=False, server_default="ping"),
        sa.Column("interval_seconds", sa.Integer, nullable=False, server_default="300"),
        sa.Column("failure_threshold", sa.Integer),
        sa.Column("degraded_after_seconds", sa.Integer),
        sa.Column(
            "next_check_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
        _ts("lease_until"),
        sa.Column("leased_by", sa.Text),
        sa.Column("status", sa.Text, nullable=False, server_default="unknown"),
        _ts("status_changed_at"),
        _ts("last_check_at"),
        sa.Column("last_response_ms", sa.Float(precision=53)),
        sa.Column("last_error_class", sa.Text),
        sa.Column("last_error", sa.Text),
        sa.Column("failure_streak", sa.Integer, nullable=False, server_default="0"),
        _ts("unhealthy_since"),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("server_id", name="pk_server_health"),
        sa.CheckConstraint("check_type IN ('ping', 'capability', 'full')", name="check_type"),
        sa.CheckConstraint(
            "status IN ('unknown', 'healthy', 'unhealthy', 'degraded')", name="status"
        ),
        *_fks("server_health"),
    )
    op.create_index("ix_server_health_org", "server_health", ["org_id"])
    op.execute("CREATE INDEX ix_server_health_due ON server_health (next_check_at) WHERE enabled")
    op.create_table(
        "health_checks",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("org_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("server_id", pg.UUID(as_uuid=True), nullable=False),
        _ts("checked_at", nullable=False),
        sa.Column("check_type", sa.Text, nullable=False),
        sa.Column("trigger", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("response_ms", sa.Float(precision=53), nullable=False),
        sa.Column("error_class", sa.Text),
        sa.Column("message", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_health_checks"),
        *_fks("health_checks"),
    )
    op.execute(
        "CREATE INDEX ix_health_checks_org_server_checked "
        "ON health_checks (org_id, server_id, checked_at DESC)"
    )
    op.create_table(
        "health_rollups",
        sa.Column("org_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("server_id", pg.UUID(as_uuid=True), nullable=False),
        _ts("hour", nullable=False),
        sa.Column("checks", sa.Integer, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("latency_sum_ms", sa.Float(precision=53), nullable=False),
        sa.Column("latency_buckets", pg.ARRAY(sa.Integer), nullable=False),
        sa.PrimaryKeyConstraint("server_id", "hour", name="pk_health_rollups"),
        *_fks("health_rollups"),
    )
    op.create_index(
        "ix_health_rollups_org_server_hour", "health_rollups", ["org_id", "server_id", "hour"]
    )
    # Retention deletes by age across every server: BRIN indexes on the time columns (rows
    # arrive in time order) find old rows without a scan, and cost almost nothing per insert.
    op.execute("CREATE INDEX ix_health_checks_checked_at ON health_checks USING brin (checked_at)")
    op.execute("CREATE INDEX ix_health_rollups_hour ON health_rollups USING brin (hour)")
    op.create_table(
        "health_transitions",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("org_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("server_id", pg.UUID(as_uuid=True), nullable=False),
        _ts("at", nullable=False),
        sa.Column("from_status", sa.Text, nullable=False),
        sa.Column("to_status", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_health_transitions"),
        *_fks("health_transitions"),
    )
    op.create_index(
        "ix_health_transitions_org_server_at", "health_transitions", ["org_id", "server_id", "at"]
    )

    # Every existing server gets its row, with the interval it had, due within one interval.
    # The owner is fenced by the forced policy too: lift it for the copy (of every tenant).
    op.execute("ALTER TABLE mcp_servers NO FORCE ROW LEVEL SECURITY")
    op.execute(
        """
        INSERT INTO server_health (server_id, org_id, interval_seconds, next_check_at)
        SELECT id, org_id, health_check_interval_seconds,
               now() + random() * make_interval(secs => health_check_interval_seconds)
        FROM mcp_servers
        """
    )
    op.execute("ALTER TABLE mcp_servers FORCE ROW LEVEL SECURITY")
    op.drop_column("mcp_servers", "health_check_interval_seconds")

    role = app_role()
    statements: list[str] = []
    for table in TENANT_TABLES:
        statements += tenant_isolation(table)
    statements += [
        # Every new server gets its health row in the same statement, so no code path (API,
        # CLI, a fixture) can make a server the scheduler does not know.
        """
        CREATE FUNCTION sc_server_health_init() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO server_health (server_id, org_id, next_check_at)
          VALUES (NEW.id, NEW.org_id, now() + random() * interval '300 seconds');
          RETURN NULL;
        END
        $$
        """,
        "CREATE TRIGGER sc_mcp_servers_health_init AFTER INSERT ON mcp_servers "
        "FOR EACH ROW EXECUTE FUNCTION sc_server_health_init()",
        # The definer functions below run as the owner; these policies let the owner (and
        # only the owner: the app role still sees its tenant only) see every tenant's rows.
        "CREATE POLICY definer_scheduler ON server_health FOR ALL TO CURRENT_USER "
        "USING (true) WITH CHECK (true)",
        """
        CREATE FUNCTION sc_health_claim(
          p_limit integer, p_lease_seconds integer, p_worker text,
          p_now timestamptz DEFAULT now())
        RETURNS TABLE (server_id uuid, org_id uuid, check_type text, next_check_at timestamptz)
        LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public
        AS $$
          UPDATE server_health h
             SET lease_until = p_now + make_interval(secs => p_lease_seconds),
                 leased_by = p_worker
          FROM (SELECT s.server_id FROM server_health s
                WHERE s.enabled AND s.next_check_at <= p_now
                  AND (s.lease_until IS NULL OR s.lease_until < p_now)
                ORDER BY s.next_check_at LIMIT p_limit FOR UPDATE SKIP LOCKED) c
          WHERE h.server_id = c.server_id
          RETURNING h.server_id, h.org_id, h.check_type, h.next_check_at
        $$
        """,
        f"REVOKE ALL ON FUNCTION {CLAIM_SIGNATURE} FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION {CLAIM_SIGNATURE} TO {role}",
        """
        CREATE FUNCTION sc_health_stale_count(p_now timestamptz DEFAULT now())
        RETURNS bigint
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
        AS $$
          SELECT count(*) FROM server_health s
          WHERE s.enabled
            AND coalesce(s.last_check_at, s.updated_at)
                < p_now - make_interval(secs => 2 * s.interval_seconds)
        $$
        """,
        f"REVOKE ALL ON FUNCTION {STALE_SIGNATURE} FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION {STALE_SIGNATURE} TO {role}",
        # Retention (health.rollup): delete raw checks and rollups older than their windows,
        # for every tenant, a batch at a time; only the owner sees across tenants.
        "CREATE POLICY definer_retention ON health_checks FOR ALL TO CURRENT_USER "
        "USING (true) WITH CHECK (true)",
        "CREATE POLICY definer_retention ON health_rollups FOR ALL TO CURRENT_USER "
        "USING (true) WITH CHECK (true)",
        """
        CREATE FUNCTION sc_health_prune(
          p_checks_before timestamptz, p_rollups_before timestamptz, p_limit integer)
        RETURNS TABLE (checks bigint, rollups bigint)
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public
        AS $$
        BEGIN
          WITH gone AS (
            DELETE FROM health_checks WHERE id IN (
              SELECT c.id FROM health_checks c WHERE c.checked_at < p_checks_before
              LIMIT p_limit)
            RETURNING 1)
          SELECT count(*) INTO checks FROM gone;
          WITH gone AS (
            DELETE FROM health_rollups WHERE (server_id, hour) IN (
              SELECT r.server_id, r.hour FROM health_rollups r WHERE r.hour < p_rollups_before
              LIMIT p_limit)
            RETURNING 1)
          SELECT count(*) INTO rollups FROM gone;
          RETURN NEXT;
        END
        $$
        """,
        f"REVOKE ALL ON FUNCTION {PRUNE_SIGNATURE} FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION {PRUNE_SIGNATURE} TO {role}",
        f"GRANT SELECT, INSERT, UPDATE ON server_health TO {role}",
        f"GRANT SELECT, INSERT, DELETE ON health_checks TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON health_rollups TO {role}",
        f"GRANT SELECT, INSERT ON health_transitions TO {role}",
    ]
    execute_all(statements)


def downgrade() -> None:
    role = app_role()
    execute_all(
        [
            f"REVOKE ALL ON {', '.join(TENANT_TABLES)} FROM {role}",
            f"DROP FUNCTION IF EXISTS {PRUNE_SIGNATURE}",
            "DROP POLICY IF EXISTS definer_retention ON health_rollups",
            "DROP POLICY IF EXISTS definer_retention ON health_checks",
            f"DROP FUNCTION IF EXISTS {STALE_SIGNATURE}",
            f"DROP FUNCTION IF EXISTS {CLAIM_SIGNATURE}",
            "DROP POLICY IF EXISTS definer_scheduler ON server_health",
            "DROP TRIGGER IF EXISTS sc_mcp_servers_health_init ON mcp_servers",
            "DROP FUNCTION IF EXISTS sc_server_health_init()",
        ]
    )
    for table in TENANT_TABLES:
        execute_all(drop_tenant_isolation(table))
    op.add_column("mcp_servers", sa.Column("health_check_interval_seconds", sa.Integer))
    op.execute("ALTER TABLE mcp_servers NO FORCE ROW LEVEL SECURITY")
    op.execute(
        "UPDATE mcp_servers m SET health_check_interval_seconds = h.interval_seconds "
        "FROM server_health h WHERE h.server_id = m.id"
    )
    op.execute(
        "UPDATE mcp_servers SET health_check_interval_seconds = 300 "
        "WHERE health_check_interval_seconds IS NULL"
    )
    op.execute("ALTER TABLE mcp_servers FORCE ROW LEVEL SECURITY")
    op.alter_column("mcp_servers", "health_check_interval_seconds", nullable=False)
    op.drop_table("health_transitions")
    op.drop_table("health_rollups")
    op.drop_table("health_checks")
    op.drop_table("server_health")
    op.drop_column("organizations", "health_degraded_after_seconds")
    op.drop_column("organizations", "health_failure_threshold")
    op.drop_column("organizations", "health_min_interval_seconds")
