"""Notifications: per-user preferences, per-org escalation policies, deliveries (issue 12).

``notification_preferences`` holds one member's channels (email, Slack incoming webhook, generic
webhook) and the health events they want; the Slack URL and the webhook signing secret are in the
secret store, the row only says when each was set. ``escalation_policies`` (one row per
organization, absent: the built-in default) names who hears about an unhealthy and a degraded
server, the reminder interval while degraded and the cool-down. ``notification_cooldowns`` keeps,
per server and recipient, when each kind of notice last went out and whether a failure notice
awaits its recovery notice. ``notification_deliveries`` is one row per notice and channel.

``sc_notification_degraded_orgs`` (SECURITY DEFINER, with a ``definer_*`` policy on
``server_health`` as ``sc_outbox_claim`` does for the outbox) lists the organizations with a
degraded server, for the periodic reminder job; everything else runs bound to one tenant.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from sprintconnect.db.rls import drop_tenant_isolation, tenant_isolation
from sprintconnect.migrations.helpers import app_role, execute_all, org_fk, server_fk

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TABLES = (
    "notification_preferences",
    "escalation_policies",
    "notification_cooldowns",
    "notification_deliveries",
)


def _ts(name: str, *, now: bool = False) -> sa.Column[object]:
    if now:
        return sa.Column(
            name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        )
    return sa.Column(name, sa.DateTime(timezone=True))


def upgrade() -> None:
    uuid = pg.UUID(as_uuid=True)
    op.create_table(
        "notification_preferences",
        sa.Column("org_id", uuid, nullable=False),
        sa.Column("user_id", uuid, nullable=False),
        sa.Column("email_enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("email_address", sa.String(320)),
        sa.Column("slack_enabled", sa.Boolean, nullable=False, server_default=sa.false()),
        _ts("slack_updated_at"),
        sa.Column("webhook_enabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("webhook_url", sa.Text),
        _ts("webhook_secret_updated_at"),
        sa.Column("events", pg.ARRAY(sa.Text), nullable=False),
        _ts("updated_at", now=True),
        sa.PrimaryKeyConstraint("org_id", "user_id", name="pk_notification_preferences"),
        sa.ForeignKeyConstraint(
            ["org_id", "user_id"],
            ["memberships.org_id", "memberships.user_id"],
            ondelete="CASCADE",
            name="fk_notification_preferences_org_id_memberships",
        ),
    )
    op.create_table(
        "escalation_policies",
        sa.Column("org_id", uuid, nullable=False),
        sa.Column("unhealthy_user_ids", pg.ARRAY(uuid), nullable=False),
        sa.Column("unhealthy_roles", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("degraded_user_ids", pg.ARRAY(uuid), nullable=False),
        sa.Column("degraded_roles", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("repeat_minutes", sa.Integer, nullable=False),
        sa.Column("cooldown_minutes", sa.Integer, nullable=False),
        _ts("updated_at", now=True),
        sa.Column("updated_by_user_id", uuid),
        sa.PrimaryKeyConstraint("org_id", name="pk_escalation_policies"),
        org_fk("escalation_policies"),
    )
    op.create_table(
        "notification_cooldowns",
        sa.Column("org_id", uuid, nullable=False),
        sa.Column("server_id", uuid, nullable=False),
        sa.Column("user_id", uuid, nullable=False),
        _ts("unhealthy_at"),
        _ts("degraded_at"),
        _ts("recovered_at"),
        sa.Column("alerted", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("server_id", "user_id", name="pk_notification_cooldowns"),
        org_fk("notification_cooldowns"),
        server_fk("notification_cooldowns"),
    )
    op.create_table(
        "notification_deliveries",
        sa.Column("id", uuid, nullable=False),
        sa.Column("org_id", uuid, nullable=False),
        sa.Column("server_id", uuid, nullable=False),
        sa.Column("event_key", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(100), nullable=False),
        sa.Column("user_id", uuid, nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("address", sa.String(320)),
        sa.Column("payload", pg.JSONB, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default=sa.text("'pending'")),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        _ts("last_attempt_at"),
        _ts("sent_at"),
        _ts("created_at", now=True),
        sa.PrimaryKeyConstraint("id", name="pk_notification_deliveries"),
        sa.UniqueConstraint(
            "org_id", "event_key", "user_id", "channel", name="uq_notification_deliveries_event"
        ),
        org_fk("notification_deliveries"),
        server_fk("notification_deliveries"),
    )
    op.create_index(
        "ix_notification_deliveries_status",
        "notification_deliveries",
        ["org_id", "status", "created_at", "id"],
    )

    role = app_role()
    statements: list[str] = []
    for table in TABLES:
        statements += tenant_isolation(table)
    statements += [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON notification_preferences TO {role}",
        f"GRANT SELECT, INSERT, UPDATE ON escalation_policies TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON notification_cooldowns TO {role}",
        f"GRANT SELECT, INSERT, UPDATE ON notification_deliveries TO {role}",
        # The reminder job's one look across tenants: which organizations have a degraded
        # server. The function runs as the owner, which FORCE'd row-level security also fences.
        "CREATE POLICY definer_notification_reminders ON server_health FOR SELECT "
        "TO CURRENT_USER USING (true)",
        """
        CREATE FUNCTION sc_notification_degraded_orgs()
        RETURNS TABLE (org_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
        AS $$
          SELECT DISTINCT h.org_id FROM server_health h
          WHERE h.status = 'degraded' AND h.enabled
        $$
        """,
        "REVOKE ALL ON FUNCTION sc_notification_degraded_orgs() FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION sc_notification_degraded_orgs() TO {role}",
    ]
    execute_all(statements)


def downgrade() -> None:
    role = app_role()
    execute_all(
        [
            f"REVOKE ALL ON {', '.join(TABLES)} FROM {role}",
            "DROP FUNCTION IF EXISTS sc_notification_degraded_orgs()",
            "DROP POLICY IF EXISTS definer_notification_reminders ON server_health",
        ]
    )
    for table in TABLES:
        execute_all(drop_tenant_isolation(table))
    op.drop_index("ix_notification_deliveries_status", table_name="notification_deliveries")
    for table in reversed(TABLES):
        op.drop_table(table)
