"""Finding the real services for tests: PostgreSQL and Redis on loopback, or embedded ones."""

from __future__ import annotations

import os
import socket
import uuid
import warnings
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from sprintconnect.db.embedded import embedded_url
from sprintconnect.db.urls import normalize

REQUIRE_SERVICES = os.environ.get("SPRINTCONNECT_TEST_REQUIRE_SERVICES") == "1"
FORCE_EMBEDDED = os.environ.get("SPRINTCONNECT_TEST_PG") == "embedded"
NO_REDIS = os.environ.get("SPRINTCONNECT_TEST_REDIS") == "off"


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def admin_url(scratch: Path) -> tuple[str, str]:
    """A superuser URL for creating test databases, and where it came from."""
    configured = os.environ.get("SPRINTCONNECT_TEST_DATABASE_URL")
    if configured:
        return configured, "configured"
    local = "postgresql://postgres@127.0.0.1:5432/postgres"
    if not FORCE_EMBEDDED and port_open("127.0.0.1", 5432):
        refusal = connection_refusal(local)
        if refusal is None:
            return local, "local"
        if REQUIRE_SERVICES:
            raise RuntimeError(f"PostgreSQL on 127.0.0.1:5432 refused the tests: {refusal}")
        warnings.warn(
            f"PostgreSQL on 127.0.0.1:5432 refused a passwordless connection as 'postgres' "
            f"({refusal}); using the embedded server. Set SPRINTCONNECT_TEST_DATABASE_URL "
            "to a superuser URL to test against that server.",
            stacklevel=1,
        )
    elif REQUIRE_SERVICES and not FORCE_EMBEDDED:
        raise RuntimeError("PostgreSQL on 127.0.0.1:5432 is required but not reachable")
    return embedded_url(scratch), "embedded"


def connection_refusal(url: str) -> str | None:
    """Why the server refuses ``url`` (wrong password, no such role), or None when it lets in."""
    try:
        with psycopg.connect(url, connect_timeout=3):
            return None
    except psycopg.OperationalError as exc:
        return str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__


def redis_url() -> str | None:
    if not NO_REDIS and port_open("127.0.0.1", 6379):
        return "redis://127.0.0.1:6379/15"
    if REQUIRE_SERVICES and not NO_REDIS:
        raise RuntimeError("Redis on 127.0.0.1:6379 is required but not reachable")
    return None


def create_database(admin: str, prefix: str = "sc_test") -> str:
    """Create an empty database and return its URL (same server and credentials)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = create_engine(normalize(admin), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


def drop_database(admin: str, url: str) -> None:
    name = make_url(url).database
    engine = create_engine(normalize(admin), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()
