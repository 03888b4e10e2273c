"""The application role: may log in, is not owner, superuser, or BYPASSRLS."""

from __future__ import annotations

from sqlalchemy import Connection, text


def ensure_app_role(conn: Connection, role: str, password: str | None) -> None:
    """Create the role when missing and strip any power it must not have."""
    row = conn.execute(
        text(
            "SELECT rolcanlogin, rolsuper, rolbypassrls, rolcreatedb, rolcreaterole "
            "FROM pg_roles WHERE rolname = :r"
        ),
        {"r": role},
    ).first()
    ident = conn.dialect.identifier_preparer.quote(role)
    if row is None:
        conn.execute(text(f"CREATE ROLE {ident} LOGIN"))
    elif (
        not row.rolcanlogin
        or row.rolsuper
        or row.rolbypassrls
        or row.rolcreatedb
        or row.rolcreaterole
    ):
        # Altered only when wrong: changing SUPERUSER needs a superuser, and managed
        # PostgreSQL services give the owner CREATEROLE at most.
        conn.execute(
            text(f"ALTER ROLE {ident} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
        )
    if password is not None:
        # ALTER ROLE takes no bind parameters; the password is our own derived, url-safe value.
        literal = password.replace("'", "''")
        conn.execute(text(f"ALTER ROLE {ident} PASSWORD '{literal}'"))
