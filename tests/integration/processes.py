"""Running the real ``sprintconnect`` command in a child process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import TEST_SECRET

CLI = [sys.executable, "-m", "sprintconnect"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli_env(data_dir: Path, database_url: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPRINTCONNECT_")}
    env.update(
        SPRINTCONNECT_DATA_DIR=str(data_dir),
        SPRINTCONNECT_SECRET_KEY=TEST_SECRET,
        SPRINTCONNECT_LOG_FORMAT="json",
        # The development identity provider on a port of its own, not a server of the
        # developer's (or of another test) on the default one.
        SPRINTCONNECT_DEV_IDP_PORT="0",
        **extra,
    )
    if database_url is not None:
        env["SPRINTCONNECT_DATABASE_URL"] = database_url
    return env


def run_cli(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def start_serve(env: dict[str, str], *, timeout: float = 60) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``sprintconnect serve``; return the process and its base URL once /readyz is 200.

    The caller owns the process (``serving`` stops it; a crash test may ``kill -9`` it).
    """
    port = free_port()
    log_path = Path(env["SPRINTCONNECT_DATA_DIR"]) / f"serve-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [*CLI, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited early:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise AssertionError(f"serve not ready in {timeout}s:\n{log_path.read_text()}")
        time.sleep(0.1)


@contextmanager
def serving(env: dict[str, str], *, timeout: float = 60) -> Iterator[str]:
    """Start ``sprintconnect serve`` and yield its base URL once /readyz answers 200."""
    proc, base = start_serve(env, timeout=timeout)
    try:
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
