"""Idempotency keys for every credential: ``api_key_id`` becomes ``caller_id``.

An idempotency key belonged to the API key that claimed it. Requests authenticated by an
access token or a browser session (0020, 0021) claim keys too: theirs belong to the user
behind the token or session, so ``caller_id`` holds an API key's id or a user's id. Both are
random UUIDs, so the two never meet. The foreign key to ``api_keys`` goes; a revoked or deleted
key's rows expire with ``SPRINTCONNECT_IDEMPOTENCY_TTL_HOURS`` like any other.

Downgrade drops the rows of users (they cannot be kept against API keys) and restores the
column name and its foreign key.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

FK = "fk_idempotency_keys_api_key_id_api_keys"


def upgrade() -> None:
    op.drop_constraint(FK, "idempotency_keys", type_="foreignkey")
    op.alter_column("idempotency_keys", "api_key_id", new_column_name="caller_id")


def downgrade() -> None:
    op.execute(
        "DELETE FROM idempotency_keys k "
        "WHERE NOT EXISTS (SELECT 1 FROM api_keys a WHERE a.id = k.caller_id)"
    )
    op.alter_column("idempotency_keys", "caller_id", new_column_name="api_key_id")
    op.create_foreign_key(
        FK, "idempotency_keys", "api_keys", ["api_key_id"], ["id"], ondelete="CASCADE"
    )
