"""Pure ASGI middleware: request ids and access logs, a cap on body size, input hygiene."""

from __future__ import annotations

import json
import re
import time
import uuid

import structlog
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sprintconnect.errors import FieldError, PayloadTooLarge, SprintConnectError, ValidationFailed
from sprintconnect.handlers import problem_response, validation_failed
from sprintconnect.idempotency.asgi import read_body, replaying
from sprintconnect.kit.context import RequestMeta, set_current_request
from sprintconnect.kit.input import (
    MAX_HEADER_BYTES,
    MAX_URL_BYTES,
    HeadersTooLarge,
    JsonTooDeep,
    UriTooLong,
    body_text_errors,
    header_errors,
    json_depth_exceeds,
    url_errors,
)

log = structlog.get_logger("sprintconnect.http")

REQUEST_ID_HEADER = b"x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", []):
        if name == wanted:
            return str(value.decode("latin-1"))
    return None


def _incoming_request_id(scope: Scope) -> str:
    candidate = _header(scope, REQUEST_ID_HEADER)
    if candidate is not None and _SAFE_REQUEST_ID.match(candidate):
        return candidate
    return uuid.uuid4().hex


class RequestContextMiddleware:
    """Gives every request an id (echoed in ``X-Request-ID``) and logs one line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()
        started_response = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status = message["status"]
                started_response = True
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != REQUEST_ID_HEADER
                ]
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message["headers"] = headers
            await send(message)

        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        set_current_request(
            RequestMeta(
                request_id=request_id,
                ip=(scope.get("client") or (None,))[0],
                user_agent=_header(scope, b"user-agent"),
            )
        )
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("http.unhandled_error", method=scope["method"], path=scope["path"])
            if started_response:
                raise
            await _send_internal_error(scope, send_with_id, request_id)
        finally:
            log.info(
                "http.request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            structlog.contextvars.clear_contextvars()


class BodyLimitMiddleware:
    """Refuses bodies over ``max_bytes`` with 413, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > self.max_bytes:
                    scope.setdefault("state", {})["body_too_large"] = True
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if scope.get("state", {}).get("body_too_large"):
                raise HTTPException(413)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413)
            return message

        await self.app(scope, limited_receive, send)


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class InputHygieneMiddleware:
    """Applies ``kit.input``'s rules to every request before any route or parser sees it.

    Sits inside the body limit, so a body it buffers is at most ``max_body_bytes``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
        refusal = _head_refusal(scope, headers)
        if refusal is None and _carries_json(scope, headers):
            try:
                body, messages = await read_body(receive)
            except HTTPException:  # the body limit, hit while streaming
                refusal = PayloadTooLarge("The request body exceeds the configured limit.")
            else:
                receive = replaying(messages, receive)
                if json_depth_exceeds(body):
                    refusal = JsonTooDeep()
                else:
                    refusal = _invalid(body_text_errors(body))
        if refusal is not None:
            await problem_response(Request(scope), refusal)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _head_refusal(scope: Scope, headers: list[tuple[bytes, bytes]]) -> SprintConnectError | None:
    if sum(len(name) + len(value) for name, value in headers) > MAX_HEADER_BYTES:
        return HeadersTooLarge()
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    query: bytes = scope.get("query_string", b"")
    if len(raw_path) + len(query) > MAX_URL_BYTES:
        return UriTooLong()
    return _invalid(url_errors(scope["path"], query) + header_errors(headers))


def _invalid(errors: list[FieldError]) -> ValidationFailed | None:
    return validation_failed(errors) if errors else None


def _carries_json(scope: Scope, headers: list[tuple[bytes, bytes]]) -> bool:
    """A body the framework would parse as JSON: declared so, or with no type at all."""
    if scope["method"] not in _BODY_METHODS or scope.get("state", {}).get("body_too_large"):
        return False
    for name, value in headers:
        if name == b"content-type":
            return b"json" in value.lower()
    return True


async def _send_internal_error(scope: Scope, send: Send, request_id: str) -> None:
    body = json.dumps(
        {
            "type": "/problems/internal-error",
            "title": "Internal error",
            "status": 500,
            "detail": "An unexpected error occurred; quote the request_id when reporting it.",
            "instance": scope["path"],
            "request_id": request_id,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
