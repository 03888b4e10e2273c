"""Finding the real services for tests: PostgreSQL and Redis on loopback, or embedded ones."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

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
    if not FORCE_EMBEDDED and port_open("127.0.0.1", 5432):
        return "postgresql://postgres@127.0.0.1:5432/postgres", "local"
    if REQUIRE_SERVICES:
        raise RuntimeError("PostgreSQL on 127.0.0.1:5432 is required but not reachable")
    return embedded_url(scratch), "embedded"


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
