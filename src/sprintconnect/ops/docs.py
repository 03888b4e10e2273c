"""The interactive API reference, served with its assets from this process (no CDN).

Swagger UI and ReDoc come as built files in the ``fastapi-offline`` package; the pages
reference them under ``/static/docs/`` on our own origin, so ``/docs`` and ``/redoc`` work on a
machine with no Internet access and load nothing from a third party.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from sprintconnect import __version__
from sprintconnect.console.serving import console_page

ASSETS_URL = "/static/docs"
DOCS_URL = "/docs"
REDOC_URL = "/redoc"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"


class Index(BaseModel):
    """Where to go from the root."""

    name: str
    version: str
    docs: str
    redoc: str
    openapi: str
    health: str
    ready: str


def _assets_dir() -> str:
    return str(files("fastapi_offline") / "static")


def install_docs(app: FastAPI) -> None:
    """Add ``/``, ``/docs``, ``/redoc`` and their assets to an app built with
    ``docs_url=None, redoc_url=None``."""
    app.mount(ASSETS_URL, StaticFiles(directory=_assets_dir()), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/", include_in_schema=False, response_model=None)
    async def index(request: Request) -> Index | Response:
        page = console_page(request)  # a browser gets the console once it is built
        if page is not None:
            return page
        root = request.scope.get("root_path", "")
        return Index(
            name=app.title,
            version=__version__,
            docs=f"{root}{DOCS_URL}",
            redoc=f"{root}{REDOC_URL}",
            openapi=f"{root}{openapi_url}",
            health=f"{root}/healthz",
            ready=f"{root}/readyz",
        )

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - API reference",
            oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT_URL}",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - API reference",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
