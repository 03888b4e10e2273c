"""Super admins are made by an operator, never by the application role (issue 9, Low 4)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from sprintconnect.db.owner import owner_transaction
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.runtime import Runtime
from tests.conftest import Tenant
from tests.integration.processes import cli_env, run_cli


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE users SET is_super_admin = true WHERE id = :id",
        "UPDATE users SET email = 'taken@example.com' WHERE id = :id",
        "INSERT INTO users (id, email, is_super_admin) "
        "VALUES (gen_random_uuid(), 'new-' || :id || '@example.com', true)",
        "UPDATE api_keys SET created_by_user_id = :id",
        "UPDATE api_keys SET scopes = '{admin}'",
    ],
)
async def test_the_app_role_cannot_make_operators_or_rewrite_identities(
    runtime: Runtime, tenant: Tenant, statement: str
) -> None:
    async with runtime.db.sessionmaker() as session:
        await bind_tenant(session, tenant.org_id)
        with pytest.raises(DBAPIError, match="permission denied"):
            await session.execute(text(statement), {"id": str(tenant.user_id)})
        await session.rollback()


async def _flag(runtime: Runtime, user_id: uuid.UUID) -> bool:
    async with owner_transaction(runtime.db) as session:
        value = await session.scalar(
            text("SELECT is_super_admin FROM users WHERE id = :id"), {"id": user_id}
        )
    return bool(value)


async def _audit_tags(runtime: Runtime, tenant: Tenant) -> list[str]:
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        rows = await session.execute(
            text(
                "SELECT tag FROM audit_events WHERE target_id = :u AND tag LIKE 'platform:%' "
                "ORDER BY seq"
            ),
            {"u": str(tenant.user_id)},
        )
        return [r.tag for r in rows]


async def test_set_super_admin_command_grants_and_revokes_audited(
    runtime: Runtime, tenant: Tenant, database_url: str, tmp_path: Path
) -> None:
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        email = await session.scalar(
            text(
                "SELECT u.email FROM users u JOIN memberships m ON m.user_id = u.id "
                "WHERE m.user_id = :u"
            ),
            {"u": tenant.user_id},
        )
    env = cli_env(tmp_path, database_url)
    granted = run_cli("admin", "set-super-admin", str(email), env=env)
    assert granted.returncode == 0, granted.stderr
    assert json.loads(granted.stdout)["is_super_admin"] is True
    assert await _flag(runtime, tenant.user_id)
    revoked = run_cli("admin", "set-super-admin", str(email), "--revoke", env=env)
    assert revoked.returncode == 0, revoked.stderr
    assert json.loads(revoked.stdout)["is_super_admin"] is False
    assert not await _flag(runtime, tenant.user_id)
    assert await _audit_tags(runtime, tenant) == [
        "platform:super_admin:granted",
        "platform:super_admin:revoked",
    ]
    unknown = run_cli("admin", "set-super-admin", "nobody@example.com", env=env)
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error:")
    assert "Traceback" not in unknown.stderr
