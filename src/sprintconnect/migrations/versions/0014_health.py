"""Health monitoring: schedules, status, checks, hourly rollups and transitions (issue 12).

Placeholder: the health helper fills this in.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
