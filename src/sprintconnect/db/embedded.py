"""PostgreSQL in a wheel (``pgserver``), started in the data dir when no database is set."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger(__name__)

_servers: dict[Path, Any] = {}


def embedded_url(data_dir: Path) -> str:
    """Start (or join) the embedded server under ``data_dir/postgres`` and return its URL."""
    pgdata = (data_dir / "postgres").resolve()
    server = _servers.get(pgdata)
    if server is None:
        pgdata.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver

            server = pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
        _servers[pgdata] = server
        log.info(
            "database.embedded",
            data_dir=str(pgdata),
            hint="set SPRINTCONNECT_DATABASE_URL to use an external PostgreSQL",
        )
    return str(server.get_uri())


def release_embedded(data_dir: Path) -> None:
    """Drop this process's handle; the server stops when no other process holds one.

    Called explicitly because uvicorn re-raises SIGTERM after a graceful shutdown, so
    ``atexit`` handlers (pgserver's own clean-up) never run in a served process.
    """
    server = _servers.pop((data_dir / "postgres").resolve(), None)
    if server is not None:
        server.cleanup()
