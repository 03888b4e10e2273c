"""Discovery against a server we did not write: ``@modelcontextprotocol/server-everything``.

The package is pinned in ``tests/npm/package.json`` (``make test`` runs ``npm ci`` there). The
pin is 2025.12.18 on purpose: it is the last release that pages ``resources/list`` (100
resources, 10 a page, base64 cursors); later releases list everything in one answer, which
would leave pagination against a third-party server untested.

Without node or the installed package the test is skipped, except where services are required
(``SPRINTCONNECT_TEST_REQUIRE_SERVICES=1``, as in CI): there it fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import TenantFactory
from tests.discovery.conftest import Waiter
from tests.discovery.test_discovery import discovery_id, register
from tests.integration.processes import free_port
from tests.services import REQUIRE_SERVICES

NPM_DIR = Path(__file__).resolve().parent.parent / "npm"
BIN = NPM_DIR / "node_modules" / ".bin" / "mcp-server-everything"
START_TIMEOUT_SECONDS = 20.0

# What this release of the package offers a client that declares neither roots nor
# elicitation (those add ``listRoots`` and ``startElicitation``).
TOOLS = {
    "echo",
    "add",
    "longRunningOperation",
    "printEnv",
    "sampleLLM",
    "getTinyImage",
    "annotatedMessage",
    "getResourceReference",
    "getResourceLinks",
    "structuredContent",
    "zip",
}
RESOURCES = {f"test://static/resource/{n}" for n in range(1, 101)}
TEMPLATES = {"test://static/resource/{id}"}
PROMPTS = {"simple_prompt", "complex_prompt", "resource_prompt"}


def _unavailable() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not BIN.exists():
        return f"{BIN.relative_to(NPM_DIR.parent.parent)} is missing: run `make test` (npm ci)"
    return None


def _wait_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        if process.poll() is not None:
            raise AssertionError(f"server-everything exited early:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"server-everything not listening in time:\n{log.read_text()}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def everything(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The streamable HTTP server of the package on a free port; its MCP URL."""
    missing = _unavailable()
    if missing:
        if REQUIRE_SERVICES:
            pytest.fail(f"server-everything is required here but {missing}")
        pytest.skip(missing)
    port = free_port()
    log = tmp_path_factory.mktemp("server-everything") / "server.log"
    env = {**os.environ, "PORT": str(port)}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(BIN), "streamableHttp"],
            cwd=NPM_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_listening(process, port, log)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def test_discovery_of_server_everything_lists_everything_across_pages(
    wclient: httpx.AsyncClient, make_tenant: TenantFactory, settled: Waiter, everything: str
) -> None:
    tenant = await make_tenant()
    registered = await register(wclient, tenant, everything)
    final = await settled(discovery_id(registered), tenant.headers)
    assert final["status"] == "succeeded", final
    assert final["outcome"] == "first"
    server_id = registered["server"]["id"]  # type: ignore[index]
    caps = (
        await wclient.get(f"/api/v1/servers/{server_id}/capabilities", headers=tenant.headers)
    ).json()
    snapshot = caps["snapshot"]
    assert snapshot["server_info"]["name"] == "example-servers/everything"
    assert {"tools", "resources", "prompts"} <= caps["capabilities"].keys()
    assert caps["capabilities"]["resources"].get("subscribe") is True

    by_kind: dict[str, dict[str, dict[str, object]]] = {}
    for item in caps["items"]:
        by_kind.setdefault(item["kind"], {})[item["name"]] = item
    assert set(by_kind["tool"]) == TOOLS
    assert set(by_kind["resource_template"]) == TEMPLATES
    assert set(by_kind["prompt"]) == PROMPTS
    # Ten pages of ten: only a client that follows ``nextCursor`` to the end sees all 100.
    assert set(by_kind["resource"]) == RESOURCES
    assert snapshot["counts"] == {
        "tool": len(TOOLS),
        "resource": 100,
        "resource_template": 1,
        "prompt": 3,
    }
    assert "pages_capped" not in snapshot["truncation"]
    assert "items_dropped" not in snapshot["truncation"]

    echo = by_kind["tool"]["echo"]["definition"]
    assert echo["inputSchema"]["properties"]["message"]["type"] == "string"  # type: ignore[index]
    assert echo["inputSchema"]["required"] == ["message"]  # type: ignore[index]
    add = by_kind["tool"]["add"]["definition"]
    assert set(add["inputSchema"]["properties"]) == {"a", "b"}  # type: ignore[index]
    complex_prompt = by_kind["prompt"]["complex_prompt"]["definition"]
    arguments = {a["name"]: a for a in complex_prompt["arguments"]}  # type: ignore[index]
    assert arguments["temperature"]["required"] is True
    assert arguments["style"].get("required") is not True
    second = by_kind["resource"]["test://static/resource/2"]["definition"]
    assert second["name"] == "Resource 2"  # type: ignore[index]
    assert second["mimeType"] == "application/octet-stream"  # type: ignore[index]
