"""Applying Alembic migrations as the owner role."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine

from sprintconnect.db.engine import Database
from sprintconnect.db.roles import ensure_app_role

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["owner_url"] = db.owner_url
    cfg.attributes["app_role"] = db.app_role
    return cfg


def prepare_roles(db: Database) -> None:
    engine = create_engine(db.owner_url)
    try:
        with engine.begin() as conn:
            ensure_app_role(
                conn, db.app_role, db.app_role_password if db.manages_app_password else None
            )
    finally:
        engine.dispose()


def upgrade(db: Database, revision: str = "head") -> None:
    prepare_roles(db)
    command.upgrade(alembic_config(db), revision)


def downgrade(db: Database, revision: str) -> None:
    command.downgrade(alembic_config(db), revision)


def current(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = create_engine(db.owner_url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
