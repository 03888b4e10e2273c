"""/metrics behind a bearer token, or on a port of its own."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sprintconnect.config import Settings
from tests.conftest import AppClientFactory, assert_problem

TOKEN = "metrics-token-0123456789"


async def test_metrics_are_open_by_default(app_client: AppClientFactory) -> None:
    client = await app_client()
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert "sprintconnect_redis_fallback_total" in response.text


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"]
)
async def test_a_metrics_token_is_required_when_set(
    app_client: AppClientFactory, authorization: str | None
) -> None:
    client = await app_client(metrics_token=TOKEN)
    headers = {"Authorization": authorization} if authorization else {}
    refused = await client.get("/metrics", headers=headers)
    assert_problem(refused, 401, "metrics-token-required")
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert "sprintconnect_" not in refused.text


async def test_the_right_metrics_token_is_let_in(app_client: AppClientFactory) -> None:
    client = await app_client(metrics_token=TOKEN)
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert "sprintconnect_" in response.text


async def test_a_metrics_port_serves_only_metrics_and_the_api_port_none(
    app_client: AppClientFactory,
) -> None:
    client = await app_client(metrics_port=9464)
    # The ASGI server names the local port a request arrived on: the URL's port here.
    on_metrics = await client.get("http://testserver:9464/metrics")
    assert on_metrics.status_code == 200
    assert "sprintconnect_" in on_metrics.text
    assert_problem(await client.get("http://testserver:9464/healthz"), 404)
    assert_problem(await client.get("http://testserver:9464/api/v1/me"), 404)
    elsewhere = assert_problem(await client.get("/metrics"), 404, "metrics-on-separate-port")
    assert "9464" in elsewhere["detail"]
    assert (await client.get("/healthz")).status_code == 200


def test_the_metrics_port_cannot_be_the_api_port() -> None:
    with pytest.raises(ValidationError, match="SPRINTCONNECT_METRICS_PORT must differ"):
        Settings(port=8000, metrics_port=8000, _env_file=None)
    assert Settings(port=8000, metrics_port=8000, metrics_host="10.0.0.5", _env_file=None)
