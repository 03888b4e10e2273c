"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio
from typing import Literal

import structlog
from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from sprintconnect import __version__
from sprintconnect.db.session import RuntimeDep
from sprintconnect.errors import ServiceUnavailable, problem_responses

log = structlog.get_logger(__name__)
router = APIRouter(tags=["Operations"])

READY_TIMEOUT_SECONDS = 2.0


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class Readiness(BaseModel):
    status: Literal["ready"]
    checks: dict[str, str]


class DatabaseNotReady(ServiceUnavailable):
    slug = "database-not-ready"
    title = "The database is not reachable"


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=PlainTextResponse,
    include_in_schema=True,
)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/healthz", summary="Liveness: the process is up")
async def healthz() -> Health:
    return Health(status="ok", version=__version__)


@router.get(
    "/readyz",
    summary="Readiness: the database answers",
    responses=problem_responses(DatabaseNotReady),
)
async def readyz(runtime: RuntimeDep) -> Readiness:
    try:
        await asyncio.wait_for(runtime.db.ping(), READY_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure to answer means not ready
        log.warning("readyz.database_unreachable", error=type(exc).__name__)
        raise DatabaseNotReady("The database did not answer a trivial query in time.") from exc
    return Readiness(status="ready", checks={"database": "ok"})
