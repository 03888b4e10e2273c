"""Search indexes for uncached fuzzy and words search (issue 11 item 2).

Placeholder: helper S fills this in if its plans need new indexes; the lead removes it otherwise.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
