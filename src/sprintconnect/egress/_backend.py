"""Network backends that resolve, check and pin every connection a connection pool opens.

The pool asks its backend for ``connect_tcp(host, port)`` once per new connection: for the first
request to an origin and for every redirect hop that leaves it. We resolve the host once, check
every address, and connect to a checked address, so no second lookup can rebind the name. TLS
still verifies the original name: the pool calls ``start_tls(server_hostname=<URL host>)`` on the
stream we return, whatever address the socket reached.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TypeVar

import httpcore
import httpcore2

from sprintconnect.egress._errors import EgressDenied
from sprintconnect.egress._hosts import parse_connect_host
from sprintconnect.egress._policy import (
    EgressPolicy,
    check_address,
    check_allowlist,
    check_destination,
)
from sprintconnect.egress._ranges import IPAddress
from sprintconnect.egress._resolver import Resolver, system_resolver
from sprintconnect.egress._telemetry import decision

StreamT = TypeVar("StreamT")


class ConnectGuard:
    """Resolve a host, check every address it has, and return the addresses to connect to."""

    def __init__(self, policy: EgressPolicy, resolver: Resolver | None = None) -> None:
        self.policy = policy
        self.resolver = resolver or system_resolver

    async def addresses(
        self, host: str, port: int, *, resolve_within: float | None = None
    ) -> list[IPAddress]:
        """Checked addresses for ``host``; raise ``EgressDenied`` if any one is refused."""
        with decision("connect", host=host, port=port) as span:
            target = parse_connect_host(host)
            check_destination(target, port, self.policy)
            if target.address is not None:
                return [target.address]
            found = await self._resolve(target.name, port, resolve_within)
            # Every address, not just the first: a resolver's order is not ours to trust.
            for address in found:
                check_address(address, self.policy)
            check_allowlist(target, found, self.policy)
            span.set_attribute("egress.addresses", [str(address) for address in found])
            return found

    async def _resolve(self, name: str, port: int, within: float | None) -> list[IPAddress]:
        try:
            # The connect timeout covers resolution too: a stalled resolver must not hang a call.
            async with asyncio.timeout(within):
                found = list(await self.resolver(name, port))
        except TimeoutError as exc:
            raise EgressDenied(
                "resolution_failed", "The host name did not resolve in time."
            ) from exc
        except (OSError, UnicodeError) as exc:
            raise EgressDenied("resolution_failed") from exc
        if not found:
            raise EgressDenied("resolution_failed")
        return found


async def connect_first(
    addresses: Sequence[IPAddress],
    connect: Callable[[str], Awaitable[StreamT]],
    retry_on: tuple[type[Exception], ...],
) -> StreamT:
    """Connect to the first address that answers, in the resolver's order."""
    failure: Exception | None = None
    for address in addresses:
        try:
            return await connect(str(address))
        except retry_on as exc:
            failure = exc
    if failure is None:  # no address at all; the guard never hands over an empty list
        raise EgressDenied("resolution_failed")
    raise failure


class GuardedBackend(httpcore2.AsyncNetworkBackend):
    """An ``httpcore2`` backend (for ``httpx2``) that connects only to checked addresses."""

    def __init__(
        self, guard: ConnectGuard, inner: httpcore2.AsyncNetworkBackend | None = None
    ) -> None:
        self._guard = guard
        self._inner = inner or httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 -- the base class's signature
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        addresses = await self._guard.addresses(host, port, resolve_within=timeout)
        return await connect_first(
            addresses,
            lambda address: self._inner.connect_tcp(
                address, port, timeout, local_address, socket_options
            ),
            (httpcore2.ConnectError,),
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 -- the base class's signature
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        raise EgressDenied("unix_socket_not_allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class HttpcoreGuardedBackend(httpcore.AsyncNetworkBackend):
    """The same backend for plain ``httpcore`` (under ``httpx``)."""

    def __init__(
        self, guard: ConnectGuard, inner: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self._guard = guard
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 -- the base class's signature
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._guard.addresses(host, port, resolve_within=timeout)
        return await connect_first(
            addresses,
            lambda address: self._inner.connect_tcp(
                address, port, timeout, local_address, socket_options
            ),
            (httpcore.ConnectError,),
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 -- the base class's signature
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise EgressDenied("unix_socket_not_allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
