"""The catalog shows tenancy is enforced by the database, not by our goodwill."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.runtime import Runtime
from tests.conftest import Tenant


async def test_every_table_with_org_id_has_rls_enabled_and_forced(runtime: Runtime) -> None:
    async with runtime.db.engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    """
                    SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
                    FROM pg_class c
                    JOIN pg_namespace n ON n.oid = c.relnamespace
                    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'org_id'
                    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT a.attisdropped
                    """
                )
            )
        ).all()
    assert {r.relname for r in rows} >= {
        "memberships",
        "api_keys",
        "audit_events",
        "roles",
        "role_assignments",
        "policy_versions",
    }
    unprotected = [r.relname for r in rows if not (r.relrowsecurity and r.relforcerowsecurity)]
    assert unprotected == []


async def test_app_role_is_not_owner_superuser_or_bypassrls(runtime: Runtime) -> None:
    async with runtime.db.engine.connect() as conn:
        role = (
            await conn.execute(
                text(
                    "SELECT current_user AS name, rolsuper, rolbypassrls FROM pg_roles "
                    "WHERE rolname = current_user"
                )
            )
        ).one()
        owned = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = current_user"
                )
            )
        ).scalar_one()
    assert role.name == runtime.db.app_role
    assert role.rolsuper is False
    assert role.rolbypassrls is False
    assert owned == 0


async def test_unbound_transaction_sees_no_tenant_rows(runtime: Runtime, tenant: Tenant) -> None:
    async with runtime.db.engine.connect() as conn:
        for table in ("organizations", "api_keys", "memberships", "audit_events"):
            query = text(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed names
            count = (await conn.execute(query)).scalar_one()
            assert count == 0, table


async def test_binding_ends_with_the_transaction_on_a_pooled_connection(
    runtime: Runtime, tenant: Tenant
) -> None:
    async with runtime.db.engine.connect() as conn:
        async with conn.begin():
            await conn.execute(
                text("SELECT set_config('app.org_id', :o, true)"), {"o": str(tenant.org_id)}
            )
            seen = (await conn.execute(text("SELECT count(*) FROM api_keys"))).scalar_one()
            assert seen >= 1
        # The setting now reads '' on this very connection: the policy matches nothing
        # instead of failing on a bad cast.
        after = (await conn.execute(text("SELECT count(*) FROM api_keys"))).scalar_one()
        assert after == 0


async def test_bound_to_one_org_cannot_insert_for_another(runtime: Runtime, tenant: Tenant) -> None:
    async with runtime.db.sessionmaker() as session:
        await bind_tenant(session, uuid.uuid4())
        with pytest.raises(ProgrammingError, match="row-level security"):
            await session.execute(
                text(
                    "INSERT INTO memberships (id, org_id, user_id) "
                    "VALUES (gen_random_uuid(), :org, :user)"
                ),
                {"org": str(tenant.org_id), "user": str(tenant.user_id)},
            )
        await session.rollback()


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_events SET tag = 'forged'", "DELETE FROM audit_events", "TRUNCATE audit_events"],
)
async def test_audit_log_is_append_only_for_the_app(
    runtime: Runtime, tenant: Tenant, statement: str
) -> None:
    async with runtime.db.sessionmaker() as session:
        await bind_tenant(session, tenant.org_id)
        with pytest.raises(DBAPIError, match="permission denied"):
            await session.execute(text(statement))
        await session.rollback()


async def test_api_keys_cannot_be_deleted_by_the_app(runtime: Runtime, tenant: Tenant) -> None:
    async with runtime.db.sessionmaker() as session:
        await bind_tenant(session, tenant.org_id)
        with pytest.raises(DBAPIError, match="permission denied"):
            await session.execute(text("DELETE FROM api_keys"))
        await session.rollback()


async def test_lookup_function_reveals_only_ids(runtime: Runtime, tenant: Tenant) -> None:
    prefix = tenant.key.split("_")[1]
    async with runtime.db.engine.connect() as conn:
        row = (await conn.execute(text("SELECT * FROM sc_api_key_lookup(:p)"), {"p": prefix})).one()
    assert set(row._mapping) == {"key_id", "org_id"}
    assert row.org_id == tenant.org_id
