"""Revision 0008 on existing data: key kinds, orphaned keys, display names, and back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text

from sprintconnect.db import migrate
from sprintconnect.db.urls import normalize
from tests import services
from tests.conftest import make_settings


@pytest.fixture
def fresh_database(pg_admin: str) -> Iterator[str]:
    url = services.create_database(pg_admin, prefix="sc_m0008")
    yield url
    services.drop_database(pg_admin, url)


def _key(conn: Connection, org: uuid.UUID, owner: uuid.UUID | None, actor: str) -> uuid.UUID:
    key_id = uuid.uuid4()
    conn.execute(
        text(
            "INSERT INTO api_keys (id, org_id, name, prefix, key_hash, scopes, created_by_user_id) "
            "VALUES (:id, :org, 'k', :prefix, :hash, '{admin}', :owner)"
        ),
        {
            "id": key_id,
            "org": org,
            "prefix": uuid.uuid4().hex[:12],
            "hash": b"\0" * 32,
            "owner": owner,
        },
    )
    actor_type, _, actor_id = actor.partition("/")
    conn.execute(
        text(
            "INSERT INTO audit_events (id, org_id, tag, actor_type, actor_id, target_type, "
            "target_id) VALUES (gen_random_uuid(), :org, 'org:api_key:created', :t, :a, "
            "'api_key', :k)"
        ),
        {"org": org, "t": actor_type, "a": actor_id, "k": str(key_id)},
    )
    return key_id


def test_upgrade_sorts_keys_and_moves_display_names(fresh_database: str, tmp_path: Path) -> None:
    from sprintconnect.runtime import build_runtime

    runtime = build_runtime(make_settings(fresh_database, tmp_path))
    migrate.upgrade(runtime.db, "0007")
    org_a, org_b, user = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    created = datetime(2026, 1, 1, tzinfo=UTC)
    engine = create_engine(normalize(fresh_database))
    try:
        with engine.begin() as conn:
            for org in (org_a, org_b):
                conn.execute(
                    text("INSERT INTO organizations (id, name, slug) VALUES (:id, :n, :n)"),
                    {"id": org, "n": f"o-{org.hex[:8]}"},
                )
            conn.execute(
                text(
                    "INSERT INTO users (id, email, display_name, created_at) "
                    "VALUES (:id, 'ada@example.com', 'Ada', :at)"
                ),
                {"id": user, "at": created},
            )
            # Org A created the user (same transaction, same timestamp); org B joined later.
            for org, at in ((org_a, created), (org_b, created + timedelta(days=3))):
                conn.execute(
                    text(
                        "INSERT INTO memberships (id, org_id, user_id, created_at) "
                        "VALUES (gen_random_uuid(), :o, :u, :at)"
                    ),
                    {"o": org, "u": user, "at": at},
                )
            cli_key = _key(conn, org_a, None, "system/cli")
            orphan = _key(conn, org_a, None, "api_key/" + str(uuid.uuid4()))
            owned = _key(conn, org_a, user, "api_key/" + str(uuid.uuid4()))

        migrate.upgrade(runtime.db, "0008")
        with engine.begin() as conn:
            rows = {
                r.id: r
                for r in conn.execute(text("SELECT id, kind, revoked_at FROM api_keys")).all()
            }
            assert rows[cli_key].kind == "service"
            assert rows[cli_key].revoked_at is None
            assert rows[orphan].kind == "service"
            assert rows[orphan].revoked_at is not None
            assert rows[owned].kind == "user"
            assert rows[owned].revoked_at is None
            revoked = conn.execute(
                text(
                    "SELECT actor_type, actor_id, details->>'reason' AS reason FROM audit_events "
                    "WHERE tag = 'org:api_key:revoked' AND target_id = :k"
                ),
                {"k": str(orphan)},
            ).one()
            assert (revoked.actor_type, revoked.reason) == ("system", "owner_deleted")
            names = {
                r.org_id: r.display_name
                for r in conn.execute(text("SELECT org_id, display_name FROM memberships"))
            }
            assert names == {org_a: "Ada", org_b: None}

        migrate.downgrade(runtime.db, "0007")
        with engine.begin() as conn:
            name = conn.execute(
                text("SELECT display_name FROM users WHERE id = :u"), {"u": user}
            ).scalar_one()
            assert name == "Ada"
    finally:
        engine.dispose()
        runtime.db.engine.sync_engine.dispose()
