"""The URL check: everything decidable from the text of a URL, with no network access."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from ipaddress import ip_address

import httpx2

from sprintconnect.egress._errors import EgressDenied
from sprintconnect.egress._hosts import Host, parse_connect_host, parse_host
from sprintconnect.egress._policy import (
    ALLOWED_SCHEMES,
    DEFAULT_PORTS,
    EgressPolicy,
    check_destination,
)
from sprintconnect.egress._ranges import IPAddress
from sprintconnect.egress._telemetry import decision

MAX_URL_LENGTH = 8192
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_PORT = re.compile(r"[0-9]{1,5}")


@dataclass(frozen=True, slots=True)
class CheckedUrl:
    """A URL that passed the check; ``address`` is set when the host is an IP literal."""

    url: str
    scheme: str
    host: str
    port: int
    address: IPAddress | None


def check_url(url: str, policy: EgressPolicy) -> CheckedUrl:
    """Check a user-supplied URL without touching the network; raise ``EgressDenied`` if refused.

    Names are not resolved here: the connection-time check does that, on every connection.
    """
    with decision("url") as span:
        scheme, host, port = _split(url)
        span.set_attributes(
            {"egress.scheme": scheme, "egress.host": host.name, "egress.port": port}
        )
        check_destination(host, port, policy)
        # After the policy, so that a denied address is reported as such even when httpx
        # would not parse it either (it refuses "0177.0.0.1", which resolvers accept).
        _same_as_httpx(url, scheme, host, port)
        return CheckedUrl(url=url, scheme=scheme, host=host.name, port=port, address=host.address)


def check_request_target(
    scheme: str, raw_host: str, port: int | None, userinfo: bool, policy: EgressPolicy
) -> Host:
    """The URL check for a request an HTTP client is about to send (each redirect hop, too)."""
    if scheme not in ALLOWED_SCHEMES:
        raise EgressDenied("scheme_not_allowed")
    if userinfo:
        raise EgressDenied("userinfo_not_allowed")
    host = parse_connect_host(raw_host)
    check_destination(host, port or DEFAULT_PORTS[scheme], policy)
    return host


def _split(url: str) -> tuple[str, Host, int]:
    # Strict on purpose: anything two parsers might read differently is refused, not repaired.
    if len(url) > MAX_URL_LENGTH:
        raise EgressDenied("invalid_url")
    if any(ch == "\\" or ch.isspace() or unicodedata.category(ch) in {"Cc", "Cf"} for ch in url):
        raise EgressDenied("invalid_characters")
    match = _SCHEME.match(url)
    if match is None:
        raise EgressDenied("invalid_url")
    scheme = match.group(1).lower()
    if scheme not in ALLOWED_SCHEMES:
        raise EgressDenied("scheme_not_allowed")
    rest = url[match.end() :]
    if not rest.startswith("//"):
        raise EgressDenied("invalid_url")
    authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
    if "@" in authority:
        raise EgressDenied("userinfo_not_allowed")
    if "%" in authority:
        raise EgressDenied("invalid_host")
    host_text, port_text = _host_and_port(authority)
    if port_text is None:
        port = DEFAULT_PORTS[scheme]
    elif _PORT.fullmatch(port_text) and 1 <= int(port_text) <= 65535:
        port = int(port_text)
    else:
        raise EgressDenied("invalid_port")
    return scheme, parse_host(host_text), port


def _host_and_port(authority: str) -> tuple[str, str | None]:
    if authority.startswith("["):
        end = authority.find("]")
        if end == -1:
            raise EgressDenied("invalid_host")
        host, after = authority[: end + 1], authority[end + 1 :]
        if not after:
            return host, None
        if not after.startswith(":"):
            raise EgressDenied("invalid_host")
        return host, after[1:]
    if authority.count(":") > 1:
        raise EgressDenied("invalid_host")
    host, colon, port = authority.partition(":")
    return host, port if colon else None


def _same_as_httpx(url: str, scheme: str, host: Host, port: int) -> None:
    """Refuse a URL that the HTTP client would send somewhere other than where we checked."""
    try:
        parsed = httpx2.URL(url)
    except httpx2.InvalidURL as exc:
        raise EgressDenied("invalid_url") from exc
    theirs = parsed.raw_host.decode("ascii").lower().removesuffix(".")
    if host.address is not None and host.address.version == 6:
        try:
            same_host = ip_address(theirs) == host.address
        except ValueError:
            same_host = False
    else:
        same_host = theirs == host.name
    if (
        not same_host
        or parsed.scheme != scheme
        or (parsed.port or DEFAULT_PORTS[scheme]) != port
        or parsed.userinfo
    ):
        raise EgressDenied("parser_mismatch")
