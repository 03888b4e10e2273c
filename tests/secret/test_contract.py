"""What every secret store backend promises; each test runs on the local and the vault backend."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from sprintconnect.secret import (
    InvalidSecretPath,
    InvalidSecretValue,
    KeyRotationUnsupported,
    SecretIntegrityError,
    SecretNotFound,
    SecretStore,
)
from tests.conftest import TenantFactory
from tests.secret.conftest import Tamper

BAD_PATHS = [
    "",
    "..",
    ".",
    "../other-org/servers/x",
    "servers/../../x",
    "servers/./x",
    "/servers/x",
    "servers/x/",
    "servers//x",
    "servers\\x",
    "servers/x\x00",
    "servers/x\nsecond-line",
    "servers/\x1b[31mx",
    "servers/x\x7f",
    "servers/ x",
    "servers/é",
    "%2e%2e/x",
    "x" * 513,
    "/".join(["a"] * 17),
    "s/" + "y" * 129,
]


def _value() -> tuple[str, dict[str, str]]:
    """A value unique to the test, so a leak of it anywhere is unmistakable."""
    marker = "sv-" + uuid.uuid4().hex
    return marker, {"token": marker, "client_id": "client-" + uuid.uuid4().hex[:8]}


async def test_round_trip_and_versions(store: SecretStore, make_tenant: TenantFactory) -> None:
    org = (await make_tenant()).org_id
    marker, value = _value()
    first = await store.put(org, "servers/abc/oauth", value)
    assert (first.path, first.version) == ("servers/abc/oauth", 1)
    assert first.created_at <= first.updated_at
    got = await store.get(org, "servers/abc/oauth")
    assert got.reveal() == value
    assert got["token"] == marker
    assert dict(got) == value

    replaced = await store.put(org, "servers/abc/oauth", {"token": "second"})
    assert replaced.version == 2
    assert replaced.created_at == first.created_at
    assert replaced.updated_at >= first.updated_at
    assert (await store.get(org, "servers/abc/oauth")).reveal() == {"token": "second"}
    assert await store.metadata(org, "servers/abc/oauth") == replaced


async def test_exists_metadata_and_delete(store: SecretStore, make_tenant: TenantFactory) -> None:
    org = (await make_tenant()).org_id
    assert await store.exists(org, "a/b") is False
    await store.put(org, "a/b", {"k": "v"})
    assert await store.exists(org, "a/b") is True
    assert await store.delete(org, "a/b") is True
    assert await store.delete(org, "a/b") is False
    assert await store.exists(org, "a/b") is False
    with pytest.raises(SecretNotFound, match="'a/b'"):
        await store.get(org, "a/b")
    with pytest.raises(SecretNotFound):
        await store.metadata(org, "a/b")
    # A deleted secret leaves no history behind: writing again starts over.
    assert (await store.put(org, "a/b", {"k": "v2"})).version == 1


async def test_values_never_show_in_repr_str_metadata_or_errors(
    store: SecretStore, make_tenant: TenantFactory
) -> None:
    org = (await make_tenant()).org_id
    marker, value = _value()
    metadata = await store.put(org, "servers/s1/api-key", value)
    got = await store.get(org, "servers/s1/api-key")
    shown = [repr(got), str(got), f"{got}", repr(metadata), str(metadata), repr(store)]
    assert all(marker not in text for text in shown), shown
    assert "servers/s1/api-key" in repr(metadata)  # the rendering is real, just redacted
    with pytest.raises(InvalidSecretValue) as caught:
        await store.put(org, "servers/s1/api-key", {"bad name!": marker})
    assert marker not in str(caught.value)
    assert "bad name!" in str(caught.value)


async def test_values_never_reach_the_logs(
    store: SecretStore,
    make_tenant: TenantFactory,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    tamper: Tamper,
) -> None:
    org = (await make_tenant()).org_id
    marker, value = _value()
    with caplog.at_level(logging.DEBUG):
        await store.put(org, "logged/path", value)
        await store.get(org, "logged/path")
        await store.metadata(org, "logged/path")
        await tamper(org, "logged/path")
        with pytest.raises(SecretIntegrityError):
            await store.get(org, "logged/path")
        await store.delete(org, "logged/path")
    captured = capfd.readouterr()
    seen = "\n".join(
        [captured.out, captured.err, caplog.text, *(repr(r.msg) for r in caplog.records)]
    )
    assert "logged/path" in seen  # the capture works: the store did log the operations
    assert marker not in seen


async def test_another_org_cannot_read_even_knowing_the_path(
    store: SecretStore, make_tenant: TenantFactory
) -> None:
    a, b = (await make_tenant()).org_id, (await make_tenant()).org_id
    marker, value = _value()
    await store.put(a, "servers/shared-name/token", value)
    with pytest.raises(SecretNotFound) as caught:
        await store.get(b, "servers/shared-name/token")
    assert marker not in str(caught.value)
    assert await store.exists(b, "servers/shared-name/token") is False
    with pytest.raises(SecretNotFound):
        await store.metadata(b, "servers/shared-name/token")
    assert await store.delete(b, "servers/shared-name/token") is False
    await store.put(b, "servers/shared-name/token", {"token": "b's own"})
    assert (await store.get(a, "servers/shared-name/token")).reveal() == value
    assert (await store.get(b, "servers/shared-name/token")).reveal() == {"token": "b's own"}
    with pytest.raises(InvalidSecretPath):
        await store.get(b, f"../{a}/servers/shared-name/token")
    with pytest.raises(SecretNotFound):
        await store.get(uuid.uuid4(), "servers/shared-name/token")


async def test_tampered_secret_fails_closed(
    store: SecretStore, make_tenant: TenantFactory, tamper: Tamper
) -> None:
    org = (await make_tenant()).org_id
    marker, value = _value()
    await store.put(org, "servers/t/cred", value)
    await tamper(org, "servers/t/cred")
    with pytest.raises(SecretIntegrityError) as caught:
        await store.get(org, "servers/t/cred")
    assert "servers/t/cred" in str(caught.value)
    assert marker not in str(caught.value)
    # Metadata never needed the value, and the path can be written afresh.
    assert (await store.metadata(org, "servers/t/cred")).path == "servers/t/cred"
    await store.put(org, "servers/t/cred", value)
    assert (await store.get(org, "servers/t/cred")).reveal() == value


@pytest.mark.parametrize("path", BAD_PATHS, ids=[ascii(p)[:24] for p in BAD_PATHS])
async def test_bad_paths_are_refused_by_every_operation(
    store: SecretStore, make_tenant: TenantFactory, path: str
) -> None:
    org = (await make_tenant()).org_id
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: store.put(org, path, {"k": "v"}),
        lambda: store.get(org, path),
        lambda: store.metadata(org, path),
        lambda: store.exists(org, path),
        lambda: store.delete(org, path),
    ]
    for call in calls:
        with pytest.raises(InvalidSecretPath):
            await call()


@pytest.mark.parametrize(
    "value",
    [{}, {"": "x"}, {"k": 1}, {"k": None}, {"a/b": "x"}, {"k": "x" * 70_000}, "plain", b"raw"],
    ids=["empty", "empty-name", "int", "none", "slash-name", "too-large", "str", "bytes"],
)
async def test_bad_values_are_refused(
    store: SecretStore, make_tenant: TenantFactory, value: Any
) -> None:
    org = (await make_tenant()).org_id
    with pytest.raises(InvalidSecretValue):
        await store.put(org, "servers/v", value)
    assert await store.exists(org, "servers/v") is False


async def test_org_id_must_be_a_uuid(store: SecretStore, make_tenant: TenantFactory) -> None:
    org = (await make_tenant()).org_id
    with pytest.raises(TypeError):
        await store.get(str(org), "a")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await store.put(f"{org}/../x", "a", {"k": "v"})  # type: ignore[arg-type]


async def test_key_rotation_keeps_every_secret_readable(
    store: SecretStore, make_tenant: TenantFactory
) -> None:
    orgs = [(await make_tenant()).org_id for _ in range(2)]
    values = {(org, f"s/{i}"): {"k": uuid.uuid4().hex} for org in orgs for i in range(3)}
    for (org, path), value in values.items():
        await store.put(org, path, value)
    if store.backend == "vault":
        with pytest.raises(KeyRotationUnsupported, match="bao operator rotate"):
            await store.rotate_keys()
    else:
        rotation = await store.rotate_keys()
        assert rotation.backend == "local"
        assert rotation.failed_organizations == ()
    for (org, path), value in values.items():
        assert (await store.get(org, path)).reveal() == value


async def test_concurrent_writes_of_one_org(store: SecretStore, make_tenant: TenantFactory) -> None:
    org = (await make_tenant()).org_id
    paths = [f"c/{i}" for i in range(8)]
    await asyncio.gather(*(store.put(org, p, {"k": p}) for p in paths))
    for p in paths:
        assert (await store.get(org, p))["k"] == p
