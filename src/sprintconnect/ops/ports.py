"""Keeping ``/metrics`` on its own port when SPRINTCONNECT_METRICS_PORT is set.

``serve`` then listens on two sockets with the same app. A request is told apart by the local
port it arrived on (``scope["server"]``): on the metrics port only ``/metrics`` exists, and on
the API port ``/metrics`` answers 404 (see ``ops.endpoints.metrics``). A firewall or a
Kubernetes network policy can then expose the API and keep the metrics port internal.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from sprintconnect.errors import NotFound
from sprintconnect.handlers import problem_response

METRICS_PATH = "/metrics"


def arrived_on(scope: Scope, port: int) -> bool:
    server = scope.get("server")
    return server is not None and server[1] == port


class MetricsPortMiddleware:
    """On the metrics port, everything but ``/metrics`` is a 404."""

    def __init__(self, app: ASGIApp, *, port: int) -> None:
        self.app = app
        self.port = port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and arrived_on(scope, self.port)
            and scope["path"] != METRICS_PATH
        ):
            refusal = NotFound("This port serves only /metrics (SPRINTCONNECT_METRICS_PORT).")
            await problem_response(Request(scope), refusal)(scope, receive, send)
            return
        await self.app(scope, receive, send)
