"""The console at /: a browser's navigation gets its page, everything else keeps the API's
answers (JSON index, problem+json 404 and 405), with hashed assets cached and a strict CSP."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from sprintconnect.app import create_app
from sprintconnect.authz.permissions import PERMISSIONS
from sprintconnect.console import serving
from sprintconnect.handlers import install_error_handlers
from sprintconnect.ops.docs import install_docs

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
PAGE = "<!doctype html><title>SprintConnect</title><div id=root></div>"


@pytest.fixture
async def console(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """A small app with the docs, the error handlers and a built console of its own."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(PAGE)
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    monkeypatch.setattr(serving, "static_dir", lambda: tmp_path)
    app = FastAPI(docs_url=None, redoc_url=None)
    install_error_handlers(app)
    install_docs(app)
    serving.install_console(app)

    @app.get("/api/v1/things")
    async def things() -> list[str]:
        return []

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.mark.parametrize("path", ["/", "/servers", "/servers/1b2c/health", "/audit?q=x"])
async def test_a_browser_navigating_gets_the_console(console: httpx.AsyncClient, path: str) -> None:
    response = await console.get(path, headers=HTML)
    assert response.status_code == 200
    assert response.text == PAGE
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    # The playground plays a tool's audio from a blob URL made in the page.
    assert "media-src 'self' blob: data:" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-cache"


async def test_api_clients_keep_the_json_index(console: httpx.AsyncClient) -> None:
    response = await console.get("/", headers={"Accept": "application/json"})
    assert response.json()["openapi"] == "/openapi.json"


@pytest.mark.parametrize(
    "path",
    ["/api/v1/nothing", "/auth/nothing", "/oauth/x", "/.well-known/x", "/docs/x", "/metricsx"],
)
async def test_the_api_s_paths_keep_their_problems(console: httpx.AsyncClient, path: str) -> None:
    response = await console.get(path, headers=HTML)
    if path == "/metricsx":  # not an API path: a screen the console will call "nothing here"
        assert response.status_code == 200
        return
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_other_methods_and_non_browsers_are_not_served_the_page(
    console: httpx.AsyncClient,
) -> None:
    assert (await console.post("/servers", headers=HTML)).status_code == 404
    plain = await console.get("/servers")
    assert plain.status_code == 404
    assert plain.headers["content-type"] == "application/problem+json"
    wrong_method = await console.post("/api/v1/things", headers=HTML)
    assert wrong_method.status_code == 405


async def test_hashed_assets_are_cached_for_a_year(console: httpx.AsyncClient) -> None:
    response = await console.get("/assets/index-abc123.js")
    assert response.status_code == 200
    assert "immutable" in response.headers["cache-control"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert (await console.get("/assets/missing.js")).status_code == 404


async def test_without_a_built_console_the_root_stays_the_index(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(serving, "static_dir", lambda: None)
    app = FastAPI(docs_url=None, redoc_url=None)
    install_error_handlers(app)
    install_docs(app)
    serving.install_console(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await client.get("/", headers=HTML)).json()["docs"] == "/docs"
        assert (await client.get("/servers", headers=HTML)).status_code == 404


async def test_the_real_app_serves_the_built_console(client: httpx.AsyncClient) -> None:
    if serving.static_dir() is None:
        pytest.skip("the console is not built (make web)")
    response = await client.get("/", headers=HTML)
    assert response.status_code == 200
    assert '<div id="root">' in response.text
    script = next(
        u for u in response.text.split('"') if u.startswith("/assets/") and u.endswith(".js")
    )
    assert (await client.get(script)).status_code == 200


def test_the_committed_openapi_document_is_current() -> None:
    """web/openapi.json feeds the console's typed client: `make web-api` after an API change."""
    committed = Path(__file__).resolve().parents[2] / "web" / "openapi.json"
    current = json.dumps(create_app().openapi(), indent=1, sort_keys=True) + "\n"
    assert committed.read_text() == current, "web/openapi.json is stale: run `make web-api`"


def test_the_console_s_permission_catalog_is_the_server_s() -> None:
    """web/src/pages/members/access.ts lists the permissions for callers who cannot read roles."""
    source = (Path(__file__).resolve().parents[2] / "web/src/pages/members/access.ts").read_text()
    listed = source.split("export const PERMISSIONS = [", 1)[1].split("] as const", 1)[0]
    assert re.findall(r'"([a-z_]+:[a-z_]+)"', listed) == list(PERMISSIONS)
