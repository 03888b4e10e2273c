"""The local backend's envelope encryption, seen from the raw tables."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.runtime import Runtime
from sprintconnect.secret import LocalSecretStore, SecretIntegrityError, SecretNotFound
from sprintconnect.secret.envelope import KeyWrapper, Sealed
from tests.conftest import TenantFactory


def local_store(runtime: Runtime, kek_version: int = 1) -> LocalSecretStore:
    return LocalSecretStore(
        runtime.db.sessionmaker, runtime.keyring, kek_version=kek_version, clock=runtime.clock
    )


@pytest.fixture
def store(runtime: Runtime) -> LocalSecretStore:
    return local_store(runtime)


def _rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params).all())


def _execute(engine: Engine, sql: str, **params: Any) -> int:
    with engine.begin() as conn:
        return conn.execute(text(sql), params).rowcount


def _data_keys(engine: Engine, org_id: uuid.UUID) -> dict[int, tuple[int, bytes, bytes]]:
    rows = _rows(
        engine,
        "SELECT version, kek_version, wrapped_key, nonce FROM secret_data_keys WHERE org_id = :o",
        o=org_id,
    )
    return {r.version: (r.kek_version, bytes(r.wrapped_key), bytes(r.nonce)) for r in rows}


@pytest.fixture
def restore_data_keys(admin_engine: Engine) -> Iterator[Callable[[uuid.UUID], None]]:
    """Snapshot an organization's data keys; the test may corrupt them, teardown puts them back.

    A corrupt key left behind would make every later KEK rotation in the session report it.
    """
    saved: dict[uuid.UUID, dict[int, tuple[int, bytes, bytes]]] = {}

    def snapshot(org_id: uuid.UUID) -> None:
        saved[org_id] = _data_keys(admin_engine, org_id)

    yield snapshot
    for org_id, keys in saved.items():
        for version, (kek, wrapped, nonce) in keys.items():
            _execute(
                admin_engine,
                "UPDATE secret_data_keys SET kek_version = :k, wrapped_key = :w, nonce = :n "
                "WHERE org_id = :o AND version = :v",
                k=kek,
                w=wrapped,
                n=nonce,
                o=org_id,
                v=version,
            )


async def test_no_plaintext_in_the_tables(
    store: LocalSecretStore, make_tenant: TenantFactory, admin_engine: Engine, runtime: Runtime
) -> None:
    org = (await make_tenant()).org_id
    marker = "plain-" + uuid.uuid4().hex
    await store.put(org, "servers/p/token", {"token": marker, "user": marker})
    secret_rows = _rows(admin_engine, "SELECT * FROM secrets WHERE org_id = :o", o=org)
    key_rows = _rows(admin_engine, "SELECT * FROM secret_data_keys WHERE org_id = :o", o=org)
    assert len(secret_rows) == 1
    assert len(key_rows) == 1
    raw = b"".join(
        bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
        for row in (*secret_rows, *key_rows)
        for v in row
    )
    assert marker.encode() not in raw
    assert marker.encode().hex().encode() not in raw
    # Nor is the data key itself stored unwrapped.
    key = KeyWrapper(runtime.keyring).unwrap(
        Sealed(bytes(key_rows[0].nonce), bytes(key_rows[0].wrapped_key)),
        org_id=org,
        dek_version=1,
        kek_version=key_rows[0].kek_version,
    )
    assert len(key) == 32
    assert key not in raw
    # The whole table, as text, holds it nowhere either.
    with admin_engine.connect() as conn:
        dump = conn.execute(text("SELECT string_agg(s::text, '|') FROM secrets s")).scalar_one()
    assert marker not in dump
    assert marker.encode().hex() not in dump


async def test_ciphertext_moved_to_another_path_fails_closed(
    store: LocalSecretStore, make_tenant: TenantFactory, admin_engine: Engine
) -> None:
    org = (await make_tenant()).org_id
    await store.put(org, "servers/a/token", {"token": "a-" + uuid.uuid4().hex})
    await store.put(org, "servers/b/token", {"token": "b-" + uuid.uuid4().hex})
    # Same organization, same data key: only the associated data tells the rows apart.
    _execute(
        admin_engine,
        "UPDATE secrets AS b SET ciphertext = a.ciphertext, nonce = a.nonce FROM secrets AS a "
        "WHERE a.org_id = :o AND b.org_id = :o AND a.path = 'servers/a/token' "
        "AND b.path = 'servers/b/token'",
        o=org,
    )
    with pytest.raises(SecretIntegrityError, match="servers/b/token"):
        await store.get(org, "servers/b/token")


async def test_ciphertext_moved_to_another_org_fails_closed(
    store: LocalSecretStore, make_tenant: TenantFactory, admin_engine: Engine
) -> None:
    a, b = (await make_tenant()).org_id, (await make_tenant()).org_id
    await store.put(a, "servers/x/token", {"token": "a-" + uuid.uuid4().hex})
    await store.put(b, "servers/y/token", {"token": "b-" + uuid.uuid4().hex})
    _execute(
        admin_engine,
        "INSERT INTO secrets SELECT :b, path, ciphertext, nonce, dek_version, version, "
        "created_at, updated_at FROM secrets WHERE org_id = :a AND path = 'servers/x/token'",
        a=a,
        b=b,
    )
    with pytest.raises(SecretIntegrityError, match="servers/x/token"):
        await store.get(b, "servers/x/token")


async def test_wrapped_key_moved_to_another_org_fails_closed(
    store: LocalSecretStore,
    make_tenant: TenantFactory,
    admin_engine: Engine,
    restore_data_keys: Callable[[uuid.UUID], None],
) -> None:
    a, b = (await make_tenant()).org_id, (await make_tenant()).org_id
    await store.put(a, "k", {"v": "a"})
    await store.put(b, "k", {"v": "b"})
    restore_data_keys(b)
    # Org A's key wrapped for org A, under org B's row: the KEK is the same, the binding is not.
    _execute(
        admin_engine,
        "UPDATE secret_data_keys AS b SET wrapped_key = a.wrapped_key, nonce = a.nonce "
        "FROM secret_data_keys AS a WHERE a.org_id = :a AND b.org_id = :b",
        a=a,
        b=b,
    )
    with pytest.raises(SecretIntegrityError, match="data key"):
        await store.get(b, "k")
    with pytest.raises(SecretIntegrityError):
        await store.put(b, "other", {"v": "x"})


@pytest.mark.parametrize(
    "change",
    [
        "nonce = set_byte(nonce, 0, get_byte(nonce, 0) # 1)",
        "dek_version = dek_version",  # control: an untouched row still decrypts
    ],
    ids=["nonce", "control"],
)
async def test_tampered_nonce(
    store: LocalSecretStore, make_tenant: TenantFactory, admin_engine: Engine, change: str
) -> None:
    org = (await make_tenant()).org_id
    await store.put(org, "n", {"v": "value"})
    _execute(admin_engine, f"UPDATE secrets SET {change} WHERE org_id = :o", o=org)  # noqa: S608
    if change.startswith("nonce"):
        with pytest.raises(SecretIntegrityError):
            await store.get(org, "n")
    else:
        assert (await store.get(org, "n")).reveal() == {"v": "value"}


async def test_kek_rotation_rewraps_every_data_key(
    runtime: Runtime, make_tenant: TenantFactory, admin_engine: Engine
) -> None:
    old, new = local_store(runtime, kek_version=1), local_store(runtime, kek_version=2)
    orgs = [(await make_tenant()).org_id for _ in range(3)]
    for org in orgs:
        await old.put(org, "servers/r/token", {"token": f"t-{org}"})
    before = {org: _data_keys(admin_engine, org) for org in orgs}
    assert all(keys[1][0] == 1 for keys in before.values())

    rotation = await new.rotate_keys()
    assert rotation.kek_version == 2
    assert rotation.organizations >= 3
    assert rotation.rewrapped_keys >= 3
    assert rotation.failed_organizations == ()
    for org in orgs:
        kek, wrapped, nonce = _data_keys(admin_engine, org)[1]
        assert kek == 2
        assert wrapped != before[org][1][1]
        assert nonce != before[org][1][2]
        # Readable through either configuration: each row names the KEK that wraps it.
        for store in (new, old):
            assert (await store.get(org, "servers/r/token")).reveal() == {"token": f"t-{org}"}

    again = await new.rotate_keys()
    assert (again.organizations, again.rewrapped_keys) == (0, 0)


async def test_kek_rotation_reports_a_corrupt_org_and_goes_on(
    runtime: Runtime,
    make_tenant: TenantFactory,
    admin_engine: Engine,
    restore_data_keys: Callable[[uuid.UUID], None],
) -> None:
    healthy, corrupt = (await make_tenant()).org_id, (await make_tenant()).org_id
    store = local_store(runtime, kek_version=3)
    await local_store(runtime, kek_version=1).put(healthy, "h", {"v": "h"})
    await local_store(runtime, kek_version=1).put(corrupt, "c", {"v": "c"})
    restore_data_keys(corrupt)
    _execute(
        admin_engine,
        "UPDATE secret_data_keys SET wrapped_key = set_byte(wrapped_key, 0, "
        "get_byte(wrapped_key, 0) # 1) WHERE org_id = :o",
        o=corrupt,
    )
    rotation = await store.rotate_keys()
    assert rotation.failed_organizations == (corrupt,)
    assert _data_keys(admin_engine, healthy)[1][0] == 3
    assert _data_keys(admin_engine, corrupt)[1][0] == 1
    assert (await store.get(healthy, "h")).reveal() == {"v": "h"}


async def test_data_key_rotation_reencrypts_the_orgs_secrets(
    store: LocalSecretStore, make_tenant: TenantFactory, admin_engine: Engine
) -> None:
    org, other = (await make_tenant()).org_id, (await make_tenant()).org_id
    values = {f"s/{i}": {"v": uuid.uuid4().hex} for i in range(4)}
    for path, value in values.items():
        await store.put(org, path, value)
    await store.put(other, "s/0", {"v": "other"})
    sql = "SELECT path, ciphertext, dek_version, version FROM secrets WHERE org_id = :o"
    before = {r.path: r for r in _rows(admin_engine, sql, o=org)}
    other_before = _data_keys(admin_engine, other)

    result = await store.rotate_data_key(org)
    assert (result.org_id, result.dek_version, result.reencrypted) == (org, 2, 4)
    after = {r.path: r for r in _rows(admin_engine, sql, o=org)}
    assert set(_data_keys(admin_engine, org)) == {2}
    for path, value in values.items():
        assert after[path].dek_version == 2
        assert bytes(after[path].ciphertext) != bytes(before[path].ciphertext)
        assert after[path].version == before[path].version  # same value, same version
        assert (await store.get(org, path)).reveal() == value
    assert _data_keys(admin_engine, other) == other_before
    assert (await store.get(other, "s/0")).reveal() == {"v": "other"}
    # New writes use the new key.
    await store.put(org, "s/new", {"v": "n"})
    assert _rows(admin_engine, sql + " AND path = 's/new'", o=org)[0].dek_version == 2


async def test_data_key_rotation_of_an_org_without_secrets(
    store: LocalSecretStore, make_tenant: TenantFactory
) -> None:
    org = (await make_tenant()).org_id
    result = await store.rotate_data_key(org)
    assert (result.dek_version, result.reencrypted) == (1, 0)
    await store.put(org, "x", {"v": "1"})
    assert (await store.get(org, "x")).reveal() == {"v": "1"}


async def test_unbound_and_foreign_transactions_see_no_rows(
    store: LocalSecretStore, runtime: Runtime, make_tenant: TenantFactory
) -> None:
    org = (await make_tenant()).org_id
    await store.put(org, "rls/check", {"v": "x"})
    async with runtime.db.engine.connect() as conn:
        for table in ("secrets", "secret_data_keys"):
            query = text(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed names
            assert (await conn.execute(query)).scalar_one() == 0
    async with runtime.db.engine.connect() as conn:
        async with conn.begin():
            await conn.execute(
                text("SELECT set_config('app.org_id', :o, true)"), {"o": str(uuid.uuid4())}
            )
            assert (await conn.execute(text("SELECT count(*) FROM secrets"))).scalar_one() == 0
            found = await conn.execute(
                text("SELECT count(*) FROM secrets WHERE org_id = :o"), {"o": org}
            )
            assert found.scalar_one() == 0
        # The definer function tells the app role organization ids, never key material.
        rows = (await conn.execute(text("SELECT * FROM sc_secret_orgs_to_rewrap(999)"))).all()
        assert org in {r[0] for r in rows}
        assert all(len(r) == 1 for r in rows)


async def test_a_key_in_use_cannot_be_dropped(
    store: LocalSecretStore, runtime: Runtime, make_tenant: TenantFactory
) -> None:
    org = (await make_tenant()).org_id
    await store.put(org, "fk/check", {"v": "x"})
    async with runtime.db.sessionmaker() as session:
        await bind_tenant(session, org)
        with pytest.raises(IntegrityError):
            await session.execute(text("DELETE FROM secret_data_keys"))
        await session.rollback()
    with pytest.raises(SecretNotFound):
        await store.get(org, "fk/missing")
