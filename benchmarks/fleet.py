"""Waiting for the loopback MCP server processes that some benchmarks start."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any


def await_ports(
    processes: Sequence[Any], pipes: Sequence[Connection], *, seconds: float
) -> list[int]:
    """The port each process reports on its pipe, once every one of them accepts connections.

    Raises ``RuntimeError`` when a process does not report, exits, or does not listen within
    ``seconds``.
    """
    ports = []
    for receive in pipes:
        if not receive.poll(60):
            raise RuntimeError("a server process did not report its port")
        ports.append(int(receive.recv()))
    deadline = time.monotonic() + seconds
    for child, port in zip(processes, ports, strict=True):
        while True:
            if not child.is_alive():
                raise RuntimeError(f"server process on port {port} exited")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"server process on port {port} did not start")
            time.sleep(0.1)
    return ports
