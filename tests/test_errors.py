"""Every error is problem+json with a request id; nothing a client sends gives a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from sprintconnect.app import create_app
from sprintconnect.runtime import Runtime
from tests.conftest import Tenant, assert_problem


async def test_unknown_route_is_404_problem(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/api/v1/nothing-here"), 404, "route-not-found")
    assert body["instance"] == "/api/v1/nothing-here"


async def test_wrong_method_is_405_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.delete("/healthz"), 405, "method-not-allowed")


async def test_request_id_is_echoed_when_safe_and_replaced_when_not(
    client: httpx.AsyncClient,
) -> None:
    echoed = await client.get("/healthz", headers={"X-Request-ID": "abc-123.x:y"})
    assert echoed.headers["x-request-id"] == "abc-123.x:y"
    for unsafe in ("a b", "x" * 200, "<script>", "a\tb"):
        replaced = await client.get("/healthz", headers={"X-Request-ID": unsafe})
        assert replaced.headers["x-request-id"] != unsafe
        assert len(replaced.headers["x-request-id"]) == 32


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{", "application/json"),
        (b'{"name": "x", "scopes": ["read"]', "application/json"),
        (b"[]", "application/json"),
        (b'"just a string"', "application/json"),
        (b"null", "application/json"),
        (b"\xff\xfe\x00", "application/json"),
        (b"name=x", "application/x-www-form-urlencoded"),
        (b"", "application/json"),
    ],
)
async def test_malformed_bodies_are_4xx_problems(
    client: httpx.AsyncClient, tenant: Tenant, content: bytes, content_type: str
) -> None:
    response = await client.post(
        "/api/v1/api-keys",
        content=content,
        headers={**tenant.headers, "Content-Type": content_type},
    )
    assert 400 <= response.status_code < 500, response.text
    assert_problem(response, response.status_code)


async def test_oversized_body_is_413(client: httpx.AsyncClient, tenant: Tenant) -> None:
    big = b'{"name": "' + b"x" * 2_000_000 + b'", "scopes": ["read"]}'
    response = await client.post(
        "/api/v1/api-keys",
        content=big,
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert_problem(response, 413, "payload-too-large")


async def test_oversized_streamed_body_without_length_is_413(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'", "scopes": ["read"]}'

    response = await client.post(
        "/api/v1/api-keys",
        content=chunks(),
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert_problem(response, 413, "payload-too-large")


async def test_unexpected_exception_is_a_500_problem_without_internals(runtime: Runtime) -> None:
    app: FastAPI = create_app(runtime=runtime)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal detail")

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            response = await c.get("/boom")
    body = assert_problem(response, 500, "internal-error")
    assert "secret internal detail" not in response.text
    assert body["request_id"]
