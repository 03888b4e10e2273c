"""Search indexes: the catalog rows of one server, found within its organization.

Words and fuzzy search read the catalog rows of the servers that pass the server filters
(environment, tags, status), one server at a time. With only ``(server_id)`` and
``(org_id, kind, name)`` to choose from, PostgreSQL estimated one row per server (it multiplies
the selectivities of ``org_id`` and ``server_id``, which are not independent) and combined both
indexes for every server, reading the organization's whole ``(org_id, kind, name)`` range
(about 2,000 entries at 100,000 servers) once per server: 39 servers cost 78,000 index entries
for 780 rows, the larger part of a fuzzy search. ``(org_id, server_id, kind)`` matches all three
conditions, so each server costs its own rows (20 entries).

``(server_id)`` stays: deleting a server cascades to its catalog rows by ``server_id`` alone.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28
"""

from __future__ import annotations

from sprintconnect.migrations.helpers import execute_all

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_all(
        [
            "CREATE INDEX ix_server_capabilities_org_server_kind "
            "ON server_capabilities (org_id, server_id, kind)",
        ]
    )


def downgrade() -> None:
    execute_all(["DROP INDEX IF EXISTS ix_server_capabilities_org_server_kind"])
