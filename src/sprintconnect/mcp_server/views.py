"""How a registered server is shown: every field, and credentials only as a summary.

What this request's policy decisions oblige to redact is removed here, after the view is
built, so that every answer showing a server (one, a list page, a search result) agrees.
"""

from __future__ import annotations

from sprintconnect.authz.enforcement import redactions_for
from sprintconnect.authz.obligations import redact
from sprintconnect.health.views import health_summary
from sprintconnect.mcp_server import credentials
from sprintconnect.mcp_server.schemas import Server
from sprintconnect.models import McpServer


def server_out(server: McpServer) -> Server:
    health = health_summary(server.health)
    view = Server(
        id=server.id,
        name=server.name,
        description=server.description,
        url=server.url,
        transport=server.transport,
        environment=server.environment,
        tags=list(server.tags),
        status=server.status,
        auth=credentials.summary(server),
        health_check_interval_seconds=health.interval_seconds,
        health=health,
        auto_discover=server.auto_discover,
        last_discovered_at=server.last_discovered_at,
        created_at=server.created_at,
        updated_at=server.updated_at,
        created_by_user_id=server.created_by_user_id,
    )
    return redact(view, redactions_for("Server", server.id))
