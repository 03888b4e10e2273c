"""Audit ledger: Merkle leaves, signed checkpoints, signing keys (issue 13).

Placeholder: filled in by the work on issue 13.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
