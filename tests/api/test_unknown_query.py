"""Unknown query parameters answer 422 naming each one, on every route."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Query

from sprintconnect.handlers import install_error_handlers
from sprintconnect.kit.query import reject_unknown_query
from tests.conftest import Tenant, assert_problem

_PLACEHOLDER = re.compile(r"\{([^}]+)\}")


def _sample(name: str) -> str:
    if name.endswith("_id"):
        return "1" if name == "job_id" else str(uuid.uuid4())
    return "1" if name in ("version", "a", "b") else "viewer"


def _unknown_names(problem: dict[str, object]) -> list[object]:
    errors = problem["errors"]
    assert isinstance(errors, list)
    return [e["loc"] for e in errors]


async def test_capabilities_with_an_unknown_parameter_is_422(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # Was silently ignored: `kind` is a parameter of the search, not of this route.
    response = await client.get(
        f"/api/v1/servers/{uuid.uuid4()}/capabilities?kind=tool", headers=tenant.headers
    )
    problem = assert_problem(response, 422, "validation-failed")
    assert problem["errors"] == [
        {"loc": ["query", "kind"], "msg": "unknown query parameter", "type": "unknown_parameter"}
    ]
    assert "kind" in problem["detail"]


async def test_each_unknown_parameter_is_named_once(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    response = await client.get(
        "/api/v1/servers?foo=1&limit=5&foo=2&bar=&tag=a&tag=b", headers=tenant.headers
    )
    problem = assert_problem(response, 422)
    assert _unknown_names(problem) == [["query", "foo"], ["query", "bar"]]


async def test_declared_repeated_and_aliased_parameters_pass(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    ok = await client.get(
        "/api/v1/servers?tag=a&tag=b&status=active&limit=5&sort=name", headers=tenant.headers
    )
    assert ok.status_code == 200, ok.text
    assert (await client.get("/api/v1/roles?limit=1", headers=tenant.headers)).status_code == 200


async def test_every_route_refuses_an_unknown_parameter(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    checked = 0
    for template, operations in app.openapi()["paths"].items():
        path = _PLACEHOLDER.sub(lambda m: _sample(m.group(1)), template)
        for method in sorted(m.upper() for m in operations if m != "parameters"):
            response = await client.request(method, f"{path}?zz_unknown=1", headers=tenant.headers)
            problem = assert_problem(response, 422)
            assert _unknown_names(problem) == [["query", "zz_unknown"]], (method, path)
            checked += 1
    assert checked >= 40
    # Routes outside the API document (the docs pages) take what their pages send.
    assert (await client.get("/openapi.json?v=1")).status_code == 200


@pytest.fixture
async def shared_param_client() -> AsyncIterator[httpx.AsyncClient]:
    """An app with a parameter that every route takes through a global dependency."""

    def trace(trace: Annotated[str | None, Query()] = None) -> str | None:
        return trace

    router = APIRouter()

    @router.get("/things")
    async def things(limit: int = 10) -> dict[str, int]:
        return {"limit": limit}

    app = FastAPI(dependencies=[Depends(reject_unknown_query), Depends(trace)])
    install_error_handlers(app)
    app.include_router(router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def test_a_parameter_of_every_route_counts_as_declared(
    shared_param_client: httpx.AsyncClient,
) -> None:
    assert (await shared_param_client.get("/things?trace=x&limit=2")).json() == {"limit": 2}
    refused = await shared_param_client.get("/things?trace=x&other=1")
    assert refused.status_code == 422
    assert _unknown_names(refused.json()) == [["query", "other"]]
