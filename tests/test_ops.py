"""Liveness, readiness, OpenAPI and docs."""

from __future__ import annotations

import httpx


async def test_healthz_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.headers["x-request-id"]


async def test_readyz_reports_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok"}}


async def test_openapi_documents_problem_responses(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "Problem" in spec["components"]["schemas"]
    create = spec["paths"]["/api/v1/api-keys"]["post"]
    assert {"401", "403", "422", "429"} <= set(create["responses"])
    assert "application/problem+json" in create["responses"]["401"]["content"]


async def test_docs_page_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert "swagger" in response.text.lower()
