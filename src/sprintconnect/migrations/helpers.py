"""What revisions share: the application role's name, SQL execution, function grants, tenant
foreign keys."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from alembic import op


def app_role() -> str:
    role = op.get_context().config.attributes["app_role"]  # type: ignore[union-attr]
    return '"' + str(role).replace('"', '""') + '"'


def execute_all(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def execute_only_by(role: str, functions: Iterable[str]) -> list[str]:
    """Statements letting only ``role`` run each function (signatures, e.g. ``f(text)``)."""
    statements: list[str] = []
    for function in functions:
        statements += [
            f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC",
            f"GRANT EXECUTE ON FUNCTION {function} TO {role}",
        ]
    return statements


def org_fk(table: str) -> sa.ForeignKeyConstraint:
    """``org_id`` references its organization; the row goes with it."""
    return sa.ForeignKeyConstraint(
        ["org_id"],
        ["organizations.id"],
        ondelete="CASCADE",
        name=f"fk_{table}_org_id_organizations",
    )


def server_fk(table: str) -> sa.ForeignKeyConstraint:
    """``server_id`` references its MCP server; the row goes with it."""
    return sa.ForeignKeyConstraint(
        ["server_id"],
        ["mcp_servers.id"],
        ondelete="CASCADE",
        name=f"fk_{table}_server_id_mcp_servers",
    )
