"""Every revision upgrades and downgrades on a fresh database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from sprintconnect.db import migrate
from sprintconnect.db.urls import normalize
from sprintconnect.runtime import Runtime, build_runtime
from tests import services
from tests.conftest import make_settings

# An expression index (with an operator class) that alembic cannot compare.
OPTIONAL_INDEXES = {"ix_server_capabilities_name_trgm"}


@pytest.fixture
def fresh_database(pg_admin: str) -> Iterator[str]:
    url = services.create_database(pg_admin, prefix="sc_migr")
    yield url
    services.drop_database(pg_admin, url)


def _tables(url: str) -> set[str]:
    engine = create_engine(normalize(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_each_revision_upgrades_and_downgrades(fresh_database: str, tmp_path: Path) -> None:
    runtime = build_runtime(make_settings(fresh_database, tmp_path))
    script = ScriptDirectory.from_config(migrate.alembic_config(runtime.db))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    assert revisions[0] == "0001"
    migrate.prepare_roles(runtime.db)
    for revision in revisions:
        migrate.upgrade(runtime.db, revision)
        assert migrate.current(runtime.db) == revision
    full = _tables(fresh_database)
    assert {"organizations", "api_keys", "audit_events"} <= full
    for revision in reversed(revisions):
        migrate.downgrade(runtime.db, f"{revision}-1" if revision != revisions[0] else "base")
    assert migrate.current(runtime.db) is None
    assert _tables(fresh_database) <= {"alembic_version"}
    migrate.upgrade(runtime.db)
    assert _tables(fresh_database) == full


async def test_models_match_the_migrations(database_url: str, runtime: Runtime) -> None:
    """Autogenerate finds nothing to add: the ORM and the revisions agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from sprintconnect.models import Base

    engine = create_engine(normalize(database_url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    # procrastinate's tables are its own, installed from its schema file.
                    "include_object": lambda obj, name, kind, reflected, other: (
                        not (
                            (kind == "table" and str(name).startswith("procrastinate_"))
                            or name in OPTIONAL_INDEXES
                        )
                    )
                },
            )
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == []
