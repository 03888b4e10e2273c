"""Connection URLs: normalization for SQLAlchemy and the application role's URL."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

DRIVER = "postgresql+psycopg"


def normalize(url: str) -> URL:
    """Accept ``postgres://``, ``postgresql://`` or ``postgresql+psycopg://``; use psycopg 3."""
    parsed = make_url(url)
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise ValueError("only PostgreSQL URLs are supported")
    return parsed.set(drivername=DRIVER)


def with_role(owner: URL, role: str, password: str) -> URL:
    """The owner's URL, logging in as ``role`` instead."""
    return owner.set(username=role, password=password)


def redacted(url: URL) -> str:
    return url.render_as_string(hide_password=True)
