"""What running tasks need from the process that runs them."""

from __future__ import annotations

from dataclasses import dataclass, field

from sprintconnect.mcp_server.connector import Network, TokenCache
from sprintconnect.runtime import Runtime
from sprintconnect.secret import SecretStore


@dataclass
class TaskServices:
    runtime: Runtime
    secrets: SecretStore
    network: Network = field(default_factory=Network)
    tokens: TokenCache = field(default_factory=TokenCache)


_current: TaskServices | None = None


def install(services: TaskServices) -> None:
    global _current
    _current = services


def current() -> TaskServices:
    if _current is None:
        raise RuntimeError("no job runner is installed in this process")
    return _current
