"""Webhooks: endpoints, deliveries and attempts (issue 13).

``webhook_endpoints`` holds an organization's endpoints (URL, event types, enabled, why it was
disabled, since when it fails, the sender's lease); the signing secrets are in the secret store.
``webhook_deliveries`` is one row per event and endpoint, ordered per endpoint by ``seq``;
``webhook_attempts`` keeps every HTTP request made for one.

``sc_webhook_due`` (SECURITY DEFINER, with ``definer_*`` policies as ``sc_outbox_claim`` has)
lists the endpoints, of any organization, whose oldest pending delivery is due: the periodic
sweep's worklist, so that a lost retry job delays a delivery by a minute and loses nothing.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from sprintconnect.db.rls import drop_tenant_isolation, tenant_isolation
from sprintconnect.migrations.helpers import app_role, execute_all, org_fk

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TABLES = ("webhook_endpoints", "webhook_deliveries", "webhook_attempts")


def _ts(name: str, *, now: bool = False, required: bool = False) -> sa.Column[object]:
    if now:
        return sa.Column(
            name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        )
    return sa.Column(name, sa.DateTime(timezone=True), nullable=not required)


def _endpoint_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["endpoint_id"],
        ["webhook_endpoints.id"],
        ondelete="CASCADE",
        name=f"fk_{table}_endpoint_id_webhook_endpoints",
    )


def upgrade() -> None:
    uuid = pg.UUID(as_uuid=True)
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", uuid, nullable=False),
        sa.Column("org_id", uuid, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("description", sa.String(500), nullable=False, server_default=""),
        sa.Column("event_types", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("disabled_reason", sa.String(40)),
        _ts("disabled_at"),
        _ts("failing_since"),
        _ts("secret_rotated_at"),
        _ts("previous_secret_expires_at"),
        _ts("lease_until"),
        _ts("updated_at", now=True),
        _ts("created_at", now=True),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_endpoints"),
        org_fk("webhook_endpoints"),
    )
    op.create_index("ix_webhook_endpoints_org", "webhook_endpoints", ["org_id", "created_at", "id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", uuid, nullable=False),
        sa.Column("org_id", uuid, nullable=False),
        sa.Column("endpoint_id", uuid, nullable=False),
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("event_key", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        _ts("occurred_at", required=True),
        sa.Column("payload", pg.JSONB, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        _ts("next_attempt_at", required=True),
        _ts("last_attempt_at"),
        sa.Column("last_status_code", sa.Integer),
        sa.Column("last_error_class", sa.String(40)),
        _ts("delivered_at"),
        _ts("created_at", now=True),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
        sa.UniqueConstraint("endpoint_id", "event_key", name="uq_webhook_deliveries_event"),
        org_fk("webhook_deliveries"),
        _endpoint_fk("webhook_deliveries"),
    )
    op.create_index(
        "ix_webhook_deliveries_pending",
        "webhook_deliveries",
        ["endpoint_id", "seq"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_webhook_deliveries_list",
        "webhook_deliveries",
        ["org_id", "endpoint_id", "created_at", "id"],
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("org_id", uuid, nullable=False),
        sa.Column("endpoint_id", uuid, nullable=False),
        sa.Column("delivery_id", uuid, nullable=False),
        _ts("attempted_at", required=True),
        sa.Column("succeeded", sa.Boolean, nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("latency_ms", sa.Float),
        sa.Column("response_snippet", sa.String(1024)),
        sa.Column("error_class", sa.String(40)),
        sa.Column("error_message", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_attempts"),
        org_fk("webhook_attempts"),
        _endpoint_fk("webhook_attempts"),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_deliveries.id"],
            ondelete="CASCADE",
            name="fk_webhook_attempts_delivery_id_webhook_deliveries",
        ),
    )
    op.create_index("ix_webhook_attempts_delivery", "webhook_attempts", ["delivery_id", "id"])
    op.create_index(
        "ix_webhook_attempts_endpoint", "webhook_attempts", ["endpoint_id", "attempted_at"]
    )

    role = app_role()
    statements: list[str] = []
    for table in TABLES:
        statements += tenant_isolation(table)
    statements += [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(TABLES)} TO {role}",
        "CREATE POLICY definer_webhook_sweep ON webhook_endpoints FOR SELECT "
        "TO CURRENT_USER USING (true)",
        "CREATE POLICY definer_webhook_sweep ON webhook_deliveries FOR SELECT "
        "TO CURRENT_USER USING (true)",
        """
        CREATE FUNCTION sc_webhook_due(p_now timestamptz, p_limit integer)
        RETURNS TABLE (org_id uuid, endpoint_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
        AS $$
          SELECT e.org_id, e.id FROM webhook_endpoints e
          WHERE e.enabled AND EXISTS (
            SELECT 1 FROM webhook_deliveries d
            WHERE d.endpoint_id = e.id AND d.status = 'pending' AND d.next_attempt_at <= p_now)
          ORDER BY e.id LIMIT p_limit
        $$
        """,
        "REVOKE ALL ON FUNCTION sc_webhook_due(timestamptz, integer) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION sc_webhook_due(timestamptz, integer) TO {role}",
    ]
    execute_all(statements)


def downgrade() -> None:
    role = app_role()
    execute_all(
        [
            f"REVOKE ALL ON {', '.join(TABLES)} FROM {role}",
            "DROP FUNCTION IF EXISTS sc_webhook_due(timestamptz, integer)",
            "DROP POLICY IF EXISTS definer_webhook_sweep ON webhook_deliveries",
            "DROP POLICY IF EXISTS definer_webhook_sweep ON webhook_endpoints",
        ]
    )
    for table in TABLES:
        execute_all(drop_tenant_isolation(table))
    op.drop_index("ix_webhook_attempts_endpoint", table_name="webhook_attempts")
    op.drop_index("ix_webhook_attempts_delivery", table_name="webhook_attempts")
    op.drop_index("ix_webhook_deliveries_list", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_pending", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_endpoints_org", table_name="webhook_endpoints")
    for table in reversed(TABLES):
        op.drop_table(table)
