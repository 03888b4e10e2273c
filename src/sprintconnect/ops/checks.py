"""Readiness checks: each configured dependency, asked once with a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import redis.asyncio as redis
import structlog

from sprintconnect.config import Settings
from sprintconnect.kit.fallback import redis_client_options
from sprintconnect.runtime import Runtime

log = structlog.get_logger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0
# Vault's /v1/sys/health answers 200 when active and unsealed, 429 on an unsealed standby and
# 473 on a performance standby; sealed (503) or uninitialized (501) is not ready.
VAULT_READY_STATUSES = frozenset({200, 429, 473})

Check = Callable[[], Awaitable[None]]


async def _redis_answers(url: str) -> None:
    client = redis.from_url(url, **redis_client_options())
    try:
        await client.ping()
    finally:
        await client.aclose()


async def _vault_answers(settings: Settings) -> None:
    assert settings.vault_url is not None
    verify: bool | str = str(settings.vault_ca_bundle) if settings.vault_ca_bundle else True
    async with httpx.AsyncClient(verify=verify, timeout=CHECK_TIMEOUT_SECONDS) as client:
        response = await client.get(f"{settings.vault_url.rstrip('/')}/v1/sys/health")
    if response.status_code not in VAULT_READY_STATUSES:
        raise RuntimeError(f"vault health answered {response.status_code}")


def configured_checks(runtime: Runtime) -> dict[str, Check]:
    """The dependencies this process is configured to use, by the name readiness reports."""
    settings = runtime.settings
    checks: dict[str, Check] = {"database": runtime.db.ping}
    if settings.redis_url is not None:
        url = settings.redis_url.get_secret_value()
        checks["redis"] = lambda: _redis_answers(url)
    if settings.secret_store == "vault":  # noqa: S105 - a backend name
        checks["secret_store"] = lambda: _vault_answers(settings)
    return checks


async def _outcome(name: str, check: Check) -> str:
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure to answer in time means not ready
        log.warning("readyz.dependency_unreachable", dependency=name, error=type(exc).__name__)
        return "fail"
    return "ok"


async def run_checks(runtime: Runtime) -> dict[str, str]:
    """Each dependency's ``ok`` or ``fail``, asked concurrently."""
    checks = configured_checks(runtime)
    outcomes = await asyncio.gather(*(_outcome(name, c) for name, c in checks.items()))
    return dict(zip(checks, outcomes, strict=True))
