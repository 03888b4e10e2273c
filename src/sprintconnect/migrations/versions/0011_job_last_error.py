"""Jobs keep the text of their last failure: ``procrastinate_jobs.sc_last_error``.

procrastinate records that a job failed (an event) but not why. The worker's middleware
(``jobs.failures``) writes the failure's text here, with credentials in URLs redacted and the
length capped, so that operators see a dead job's last error in the jobs API. The column is
ours (the ``sc_`` prefix keeps it apart from procrastinate's own); it goes with its row when
a job is discarded. The application role's table grants of 0005 cover it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("procrastinate_jobs", sa.Column("sc_last_error", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("procrastinate_jobs", "sc_last_error")
