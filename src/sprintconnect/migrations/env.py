"""Alembic environment: runs as the owner role; revisions grant to the application role."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from sprintconnect.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = create_engine(
        config.attributes["owner_url"], poolclass=pool.NullPool, hide_parameters=True
    )
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
