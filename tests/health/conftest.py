"""Fixtures of the health tests: the health-check tests' own database and a switchable MCP
server (defined in ``check_support`` and ``tests.fixtures.flaky_server``)."""

from tests.fixtures.flaky_server import flaky_server
from tests.health.check_support import flaky, h, hdb

__all__ = ["flaky", "flaky_server", "h", "hdb"]
