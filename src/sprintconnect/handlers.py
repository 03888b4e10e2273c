"""One renderer for every error: RFC 9457 problem+json, never a stack trace."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from sprintconnect.console.serving import console_page
from sprintconnect.errors import (
    PROBLEM_BASE,
    PROBLEM_CONTENT_TYPE,
    BadRequest,
    FieldError,
    NotFound,
    PayloadTooLarge,
    Problem,
    SprintConnectError,
    ValidationFailed,
)

log = structlog.get_logger(__name__)


class MethodNotAllowed(SprintConnectError):
    status = 405
    slug = "method-not-allowed"
    title = "Method not allowed"


class RouteNotFound(NotFound):
    slug = "route-not-found"
    title = "No such route"


_BY_STATUS: dict[int, type[SprintConnectError]] = {
    400: BadRequest,
    404: RouteNotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
}


def problem_response(request: Request | None, error: SprintConnectError) -> JSONResponse:
    request_id = request.scope.get("state", {}).get("request_id") if request else None
    instance = request.url.path if request else None
    problem = error.to_problem(instance=instance, request_id=request_id)
    return JSONResponse(
        problem.model_dump(mode="json", exclude_none=True),
        status_code=error.status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=error.headers,
    )


def _field_errors(exc: RequestValidationError) -> list[FieldError]:
    # The offending input is deliberately not echoed: it may hold a secret.
    return [
        FieldError(
            loc=[str(p) if not isinstance(p, int) else p for p in e.get("loc", ())],
            msg=str(e.get("msg", "invalid")),
            type=str(e.get("type", "invalid")),
        )
        for e in exc.errors()
    ]


def validation_failed(errors: list[FieldError]) -> ValidationFailed:
    """A 422 listing ``errors``, its detail summing up the first few."""
    summary = "; ".join(f"{'.'.join(str(p) for p in e.loc)}: {e.msg}" for e in errors[:5])
    return ValidationFailed(summary, errors=errors)


def install_error_handlers(app: FastAPI) -> None:
    async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, SprintConnectError)
        if exc.status >= 500:
            log.error("request.failed", error=type(exc).__name__)
        return problem_response(request, exc)

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(request, validation_failed(_field_errors(exc)))

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        # No route for a browser's navigation: one of the console's screens.
        if exc.status_code == 404 and "endpoint" not in request.scope:
            page = console_page(request)
            if page is not None:
                return page
        error_class = _BY_STATUS.get(exc.status_code)
        if error_class is None:
            # Not raised by our code; render the framework's status as a plain problem.
            problem = Problem(
                type=f"{PROBLEM_BASE}http-{exc.status_code}",
                title=str(exc.detail),
                status=exc.status_code,
                instance=request.url.path,
                request_id=request.scope.get("state", {}).get("request_id"),
            )
            return JSONResponse(
                problem.model_dump(mode="json", exclude_none=True),
                status_code=exc.status_code,
                media_type=PROBLEM_CONTENT_TYPE,
                headers=exc.headers,
            )
        error = error_class(_http_detail(request, exc))
        error.headers.update(exc.headers or {})
        return problem_response(request, error)

    app.add_exception_handler(SprintConnectError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)


def _http_detail(request: Request, exc: StarletteHTTPException) -> str | None:
    details: dict[int, Any] = {
        404: f"No route matches {request.method} {request.url.path}.",
        405: f"{request.method} is not allowed on {request.url.path}.",
        413: "The request body exceeds the configured limit.",
    }
    return str(details.get(exc.status_code, exc.detail))
