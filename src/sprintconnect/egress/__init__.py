"""The egress guard: the only way SprintConnect reaches a URL that a user supplied.

``check_url`` decides from the URL's text alone (registration time, no network).
``build_async_client`` (``httpx2``, for the MCP SDK) and ``build_httpx_client`` (``httpx``)
return clients that re-check every request and redirect hop, resolve each new connection's
host once, refuse it if any address is denied, and connect to the checked address.
"""

from sprintconnect.egress._backend import ConnectGuard
from sprintconnect.egress._client import (
    build_async_client,
    build_httpx_client,
    mcp_client_factory,
)
from sprintconnect.egress._errors import EgressDenied, EgressRateLimited
from sprintconnect.egress._policy import (
    DEFAULT_DENIED_PORTS,
    EgressPolicy,
    check_address,
    org_policy,
    parse_allowlist,
    policy_from_settings,
)
from sprintconnect.egress._ranges import IPAddress
from sprintconnect.egress._resolver import Resolver, system_resolver
from sprintconnect.egress._url import CheckedUrl, check_url

__all__ = [
    "DEFAULT_DENIED_PORTS",
    "CheckedUrl",
    "ConnectGuard",
    "EgressDenied",
    "EgressPolicy",
    "EgressRateLimited",
    "IPAddress",
    "Resolver",
    "build_async_client",
    "build_httpx_client",
    "check_address",
    "check_url",
    "mcp_client_factory",
    "org_policy",
    "parse_allowlist",
    "policy_from_settings",
    "system_resolver",
]
