"""Applying Alembic migrations as the owner role."""

from __future__ import annotations

import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine
from sqlalchemy.exc import InternalError

from sprintconnect.db.engine import Database
from sprintconnect.db.roles import ensure_app_role

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["owner_url"] = db.owner_url
    cfg.attributes["app_role"] = db.app_role
    return cfg


def prepare_roles(db: Database, *, attempts: int = 5) -> None:
    engine = create_engine(db.owner_url, hide_parameters=True)
    try:
        for attempt in range(attempts):
            try:
                with engine.begin() as conn:
                    ensure_app_role(
                        conn, db.app_role, db.app_role_password if db.manages_app_password else None
                    )
                return
            except InternalError as exc:
                # Roles are cluster-wide: two migrations against one cluster at once can
                # collide on the same role row ("tuple concurrently updated"). Try again.
                if "concurrently" not in str(exc) or attempt == attempts - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))
    finally:
        engine.dispose()


def upgrade(db: Database, revision: str = "head") -> None:
    prepare_roles(db)
    command.upgrade(alembic_config(db), revision)


def downgrade(db: Database, revision: str) -> None:
    command.downgrade(alembic_config(db), revision)


def current(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = create_engine(db.owner_url, hide_parameters=True)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
