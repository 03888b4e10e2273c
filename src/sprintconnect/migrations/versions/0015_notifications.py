"""Notifications: per-user preferences, per-org escalation policies, deliveries (issue 12).

Placeholder: the notifications helper fills this in.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
