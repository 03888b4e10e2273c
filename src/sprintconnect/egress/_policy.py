"""What one outbound call may reach, and the checks of a single address against it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from ipaddress import ip_network
from uuid import UUID

from sprintconnect.config import Settings
from sprintconnect.egress._errors import EgressDenied
from sprintconnect.egress._hosts import Host, host_matches, parse_host
from sprintconnect.egress._ranges import (
    LOOPBACK_NAMES,
    METADATA_NAMES,
    NEVER_ALLOWED,
    IPAddress,
    IPNetwork,
    category,
    embedded_ipv4,
    is_metadata,
)

DEFAULT_DENIED_PORTS = frozenset({22, 25, 2375, 5432, 6379, 10250})
ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    """The operator's settings plus one organization's allowlist, fixed for one call."""

    allow_loopback: bool = False
    allow_private: tuple[IPNetwork, ...] = ()
    denied_ports: frozenset[int] = DEFAULT_DENIED_PORTS
    allowlist_hosts: frozenset[str] = frozenset()
    allowlist_networks: tuple[IPNetwork, ...] = ()
    org_id: str | None = None
    rate_limit: str | None = None
    # A Redis URL can carry a password: keep it out of reprs and logs.
    rate_limit_storage: str | None = field(default=None, repr=False, compare=False)
    # In development, a refused loopback address names the setting that allows it; in
    # production the detail does not tell tenants about the operator's configuration.
    name_loopback_setting: bool = False

    @property
    def has_allowlist(self) -> bool:
        return bool(self.allowlist_hosts or self.allowlist_networks)


def policy_from_settings(
    settings: Settings,
    org_allowlist: Iterable[str] | None = None,
    *,
    org_id: UUID | str | None = None,
) -> EgressPolicy:
    """The policy for one call; ``org_allowlist`` holds names, ``*.domain``, IPs and CIDRs."""
    hosts, networks = parse_allowlist(org_allowlist or ())
    return EgressPolicy(
        allow_loopback=settings.egress_allow_loopback,
        allow_private=tuple(
            ip_network(c, strict=False) for c in settings.egress_allow_private_cidrs
        ),
        denied_ports=frozenset(settings.egress_denied_ports),
        allowlist_hosts=hosts,
        allowlist_networks=networks,
        org_id=str(org_id) if org_id is not None else None,
        rate_limit=settings.egress_rate_limit or None,
        rate_limit_storage=settings.redis_url.get_secret_value() if settings.redis_url else None,
        name_loopback_setting=settings.env == "development",
    )


def org_policy(
    settings: Settings, org_allowlist: Iterable[str] | None, *, org_id: UUID | str
) -> EgressPolicy:
    """``policy_from_settings`` for a request an organization makes: an allowlist entry that
    cannot be read refuses (``EgressDenied`` ``invalid_allowlist``) rather than guessing."""
    try:
        return policy_from_settings(settings, org_allowlist or None, org_id=org_id)
    except ValueError as exc:
        raise EgressDenied(
            "invalid_allowlist", "The organization's egress allowlist has an invalid entry."
        ) from exc


def parse_allowlist(entries: Iterable[str]) -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    """Split allowlist entries into host patterns and networks; ValueError names a bad entry."""
    hosts: set[str] = set()
    networks: list[IPNetwork] = []
    for raw in entries:
        entry = raw.strip()
        try:
            networks.append(ip_network(entry, strict=False))
            continue
        except ValueError:
            pass
        wildcard = entry.startswith("*.")
        try:
            host = parse_host(entry[2:] if wildcard else entry)
        except EgressDenied as exc:
            raise ValueError(f"not a host name, IP address or CIDR: {raw!r}") from exc
        if host.address is not None and not wildcard:
            networks.append(ip_network(host.address))
        elif host.address is None:
            hosts.add(f"*.{host.name}" if wildcard else host.name)
        else:
            raise ValueError(f"a wildcard needs a domain name: {raw!r}")
    return frozenset(hosts), tuple(networks)


def check_address(address: IPAddress, policy: EgressPolicy) -> None:
    """Raise ``EgressDenied`` unless ``address`` (and any IPv4 inside it) may be reached."""
    if is_metadata(address):
        raise EgressDenied("metadata_address")
    for candidate in (address, *embedded_ipv4(address)):
        name = category(candidate)
        if name is None:
            continue
        if name == "loopback":
            # Only the explicit switch opens loopback; a CIDR list is too easy to over-broaden.
            if policy.allow_loopback:
                continue
            raise _loopback_denied(policy)
        elif name not in NEVER_ALLOWED and any(candidate in n for n in policy.allow_private):
            continue
        raise EgressDenied(f"address_denied:{name}")


def check_destination(host: Host, port: int, policy: EgressPolicy) -> None:
    """Everything that can be decided from the host and port alone, before any resolution."""
    if port in policy.denied_ports:
        raise EgressDenied("port_denied")
    if host.name in METADATA_NAMES:
        raise EgressDenied("metadata_address")
    if host.address is None and not policy.allow_loopback and _is_loopback_name(host.name):
        raise _loopback_denied(policy)
    if host.address is not None:
        check_address(host.address, policy)
        check_allowlist(host, [host.address], policy)
    else:
        check_allowlist(host, None, policy)


def check_allowlist(
    host: Host, addresses: Sequence[IPAddress] | None, policy: EgressPolicy
) -> None:
    """With an org allowlist, pass only listed hosts or addresses all inside listed networks.

    ``addresses`` is None before resolution; a name that is not listed by itself then waits for
    its addresses if the allowlist has networks that they could fall in.
    """
    if not policy.has_allowlist or host_matches(host.name, policy.allowlist_hosts):
        return
    if addresses is None:
        if policy.allowlist_networks:
            return
        raise EgressDenied("not_in_allowlist")
    if not addresses or not all(
        any(address in network for network in policy.allowlist_networks) for address in addresses
    ):
        raise EgressDenied("not_in_allowlist")


LOOPBACK_SETTING_HINT = (
    "Loopback addresses (127.0.0.0/8, ::1, localhost) are refused. To register a server on "
    "this machine during development, start SprintConnect with "
    "SPRINTCONNECT_EGRESS_ALLOW_LOOPBACK=true."
)


def _loopback_denied(policy: EgressPolicy) -> EgressDenied:
    detail = LOOPBACK_SETTING_HINT if policy.name_loopback_setting else None
    return EgressDenied("address_denied:loopback", detail)


def _is_loopback_name(name: str) -> bool:
    # RFC 6761: "localhost" and every name under it resolve to loopback, without DNS.
    return any(name == n or name.endswith("." + n) for n in LOOPBACK_NAMES)
