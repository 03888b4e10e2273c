"""Token service: signing keys, service accounts, refresh tokens and revoked access tokens.

Placeholder: filled by the token service work of issue 14.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
