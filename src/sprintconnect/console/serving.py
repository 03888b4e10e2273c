"""Serving the built console.

Vite writes the console into ``static/`` (``index.html`` and hashed files under ``assets/``).
The API keeps every path it has; the console takes what no route answers: a browser asking for
an HTML page at a path that is not the API's (``/servers``, ``/audit``...) gets ``index.html``
and the console's router shows the screen. Everything else keeps the API's problem answers.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

ASSETS_URL = "/assets"
# First path segments that belong to the API and its documents: never the console's page.
RESERVED = frozenset(
    {
        "api",
        "auth",
        "oauth",
        ".well-known",
        "static",
        "assets",
        "docs",
        "redoc",
        "openapi.json",
        "metrics",
        "healthz",
        "readyz",
    }
)
# The console's page: only its own scripts and styles (Mantine sets inline styles), its own
# API, and never inside another site's frame.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; media-src 'self' blob: data:; font-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
}


class _Assets(StaticFiles):
    """Hashed build files: cached for a year, since a new build gives new names."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
            response.headers["X-Content-Type-Options"] = "nosniff"
        return response


@cache
def static_dir() -> Path | None:
    """The built console, or None when ``make web`` has not built it."""
    path = Path(str(files("sprintconnect.console") / "static"))
    return path if (path / "index.html").is_file() else None


def install_console(app: FastAPI) -> None:
    """Mount the console's hashed files; the page itself comes from ``console_page``."""
    directory = static_dir()
    if directory is not None and (directory / "assets").is_dir():
        app.mount(ASSETS_URL, _Assets(directory=directory / "assets"), name="console-assets")


def wants_page(request: Request) -> bool:
    """A browser navigating: GET or HEAD, asking for HTML."""
    return request.method in ("GET", "HEAD") and "text/html" in request.headers.get("accept", "")


def console_page(request: Request) -> Response | None:
    """The console's ``index.html`` for a browser's navigation to one of its screens, or None."""
    directory = static_dir()
    if directory is None or not wants_page(request):
        return None
    if request.url.path.lstrip("/").split("/", 1)[0] in RESERVED:
        return None
    return FileResponse(directory / "index.html", media_type="text/html", headers=PAGE_HEADERS)
