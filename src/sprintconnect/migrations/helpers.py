"""What revisions share: the application role's name and SQL execution."""

from __future__ import annotations

from alembic import op


def app_role() -> str:
    role = op.get_context().config.attributes["app_role"]  # type: ignore[union-attr]
    return '"' + str(role).replace('"', '""') + '"'


def execute_all(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)
