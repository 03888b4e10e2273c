"""Wake the outbox relay: every insert into ``outbox_events`` sends a NOTIFY.

A statement-level trigger calls ``pg_notify('sc_outbox', '')`` after each INSERT statement on
``outbox_events``, so every writer is covered without code of its own. PostgreSQL delivers the
notification when the inserting transaction commits (and drops it on rollback), and folds the
identical notifications of one transaction into one. Relays LISTEN on the channel and relay at
once; the notification is only a hint, and the relay's poll still finds anything it missed.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION sc_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM pg_notify('sc_outbox', '');
          RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER sc_outbox_events_notify AFTER INSERT ON outbox_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION sc_outbox_notify()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS sc_outbox_events_notify ON outbox_events")
    op.execute("DROP FUNCTION IF EXISTS sc_outbox_notify()")
