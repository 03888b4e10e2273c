"""Errors the egress guard raises.

SprintConnectError
└── ValidationFailed (422)
    └── EgressDenied             slug ``egress-denied``, carries ``reason``
        └── EgressRateLimited    429, slug ``egress-rate-limited``, reason ``rate_limited``

A denial is 422, not 403: the caller is allowed to act, but the URL they supplied (or where it
led: a resolved address, a redirect) is not an acceptable value. The rate limit is its own 429
so that clients get ``Retry-After``; it is still an ``EgressDenied`` so one ``except`` covers all.
"""

from __future__ import annotations

from typing import Any

from sprintconnect.errors import ValidationFailed


class EgressDenied(ValidationFailed):
    """The guard refused to reach a URL; ``reason`` says why in machine-readable form."""

    slug = "egress-denied"
    title = "The destination is not allowed"
    default_loc = ("body", "url")

    def __init__(self, reason: str, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or _DETAILS.get(reason.split(":")[0]), reason=reason, **extra)
        self.reason = reason


class EgressRateLimited(EgressDenied):
    """The organization has spent its outbound request budget for now."""

    status = 429
    slug = "egress-rate-limited"
    title = "Too many outbound requests"

    def __init__(self, retry_after: int, limit: str) -> None:
        super().__init__(
            "rate_limited",
            f"The outbound request limit of {limit} is spent; retry in {retry_after}s.",
            retry_after=retry_after,
        )
        self.headers["Retry-After"] = str(retry_after)


# Details say what to change without echoing the address, which can be internal topology.
_DETAILS = {
    "invalid_url": "The URL could not be parsed as an absolute http(s) URL.",
    "invalid_characters": "The URL contains whitespace, control characters or backslashes.",
    "invalid_host": "The URL's host is not a valid host name or IP address.",
    "invalid_port": "The URL's port is not a number between 1 and 65535.",
    "scheme_not_allowed": "Only http and https URLs are allowed.",
    "userinfo_not_allowed": "Credentials in the URL (user@host) are not allowed.",
    "parser_mismatch": "The URL is read differently by different parsers.",
    "port_denied": "Connections to this port are not allowed.",
    "address_denied": "The destination address is in a range that is not allowed.",
    "metadata_address": "Cloud metadata addresses are never allowed.",
    "not_in_allowlist": "The destination is not on the organization's egress allowlist.",
    "resolution_failed": "The host name could not be resolved.",
    "unix_socket_not_allowed": "Unix domain sockets are not allowed.",
}
