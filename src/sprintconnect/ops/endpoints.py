"""Liveness, readiness and metrics."""

from __future__ import annotations

import hmac
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from sprintconnect import __version__
from sprintconnect.config import Settings
from sprintconnect.db.session import RuntimeDep
from sprintconnect.errors import (
    AuthenticationRequired,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
    problem_responses,
)
from sprintconnect.ops.checks import run_checks
from sprintconnect.ops.ports import arrived_on

# Every route answers a 422 problem for an unknown query parameter (kit.query).
router = APIRouter(tags=["Operations"], responses=problem_responses(ValidationFailed))


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class Readiness(BaseModel):
    status: Literal["ready"]
    checks: dict[str, Literal["ok", "fail"]]


class NotReady(ServiceUnavailable):
    slug = "not-ready"
    title = "A dependency is not reachable"


class MetricsTokenRequired(AuthenticationRequired):
    slug = "metrics-token-required"
    title = "The metrics token is missing or wrong"


class MetricsElsewhere(NotFound):
    slug = "metrics-on-separate-port"
    title = "Metrics are served on a separate port"


def _token_matches(settings: Settings, authorization: str | None) -> bool:
    assert settings.metrics_token is not None
    scheme, _, presented = (authorization or "").partition(" ")
    expected = settings.metrics_token.get_secret_value()
    return scheme.lower() == "bearer" and hmac.compare_digest(
        presented.strip().encode(), expected.encode()
    )


def metrics_answer(settings: Settings, authorization: str | None) -> Response:
    """The Prometheus text, behind the metrics token when one is set."""
    if settings.metrics_token is not None and not _token_matches(settings, authorization):
        raise MetricsTokenRequired(
            "Send the token from SPRINTCONNECT_METRICS_TOKEN as 'Authorization: Bearer <token>'."
        )
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description="Needs `Authorization: Bearer <SPRINTCONNECT_METRICS_TOKEN>` when that is set; "
    "answers 404 here when SPRINTCONNECT_METRICS_PORT moves metrics to a port of their own.",
    response_class=PlainTextResponse,
    responses=problem_responses(MetricsTokenRequired, MetricsElsewhere),
)
async def metrics(
    request: Request, runtime: RuntimeDep, authorization: Annotated[str | None, Header()] = None
) -> Response:
    settings = runtime.settings
    if settings.metrics_port is not None and not arrived_on(request.scope, settings.metrics_port):
        raise MetricsElsewhere(
            f"Metrics are served on port {settings.metrics_port} (SPRINTCONNECT_METRICS_PORT)."
        )
    return metrics_answer(settings, authorization)


@router.get("/healthz", summary="Liveness: the process is up")
async def healthz() -> Health:
    return Health(status="ok", version=__version__)


@router.get(
    "/readyz",
    summary="Readiness: every configured dependency answers",
    description="Asks the database, Redis (when configured) and the secret store (when it is "
    "Vault). A 503 names each dependency's outcome under `checks`.",
    responses=problem_responses(NotReady),
)
async def readyz(runtime: RuntimeDep) -> Readiness:
    checks = await run_checks(runtime)
    failed = sorted(name for name, outcome in checks.items() if outcome != "ok")
    if failed:
        raise NotReady(f"Not reachable: {', '.join(failed)}.", checks=checks)
    return Readiness(status="ready", checks={name: "ok" for name in checks})
