"""SQL for row-level security, used by migrations so every tenant table is fenced the same way."""

from __future__ import annotations

TENANT_EXPR = "nullif(current_setting('app.org_id', true), '')::uuid"


def tenant_isolation(table: str, column: str = "org_id") -> list[str]:
    """Enable and force RLS on ``table`` with one policy: rows of the bound tenant only."""
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING ({column} = {TENANT_EXPR}) WITH CHECK ({column} = {TENANT_EXPR})",
    ]


def drop_tenant_isolation(table: str) -> list[str]:
    return [
        f"DROP POLICY IF EXISTS tenant_isolation ON {table}",
        f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
    ]
