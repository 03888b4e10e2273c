"""Discovery throughput: one worker against many loopback MCP servers, versus a bare SDK client.

Dataset, generated here: ``--servers`` (200) ``mcp`` SDK ``MCPServer`` instances with ``--tools``
(50) distinct tools each. Every server has a business domain (CRM, billing, inventory, ...), and
its tools are verb/entity pairs of that domain with a one-paragraph description and a typed
input schema built from real signatures: bounded integers, enums, patterns, optional fields,
lists and maps, as ``MCPServer`` derives them for any tool.

Serving them honestly on 2 cores: 200 uvicorn servers in threads of the measuring process
would compete with the client for its GIL and event loop, and would charge the server work to
whichever side is measured. So the servers live in ``--server-processes`` (10) separate
processes, each one uvicorn mounting its share of servers at ``/s/<n>/mcp``, every server with
its own session manager (stateful streamable HTTP, SSE answers, DNS-rebinding protection on:
the SDK defaults). Both sides talk to the same processes over real loopback TCP. The machine's
cores are shared by the servers, the client side and (for SprintConnect) PostgreSQL alike.

Baseline: a bare ``mcp`` client (``streamable_http_client`` + ``ClientSession``) that, for
each server in turn in one process, initializes and lists tools, resources, resource templates
and prompts (the same calls as SprintConnect, each followed through every ``nextCursor``).

SprintConnect: a scratch database (PostgreSQL on 127.0.0.1:5432 when it answers, else the
embedded one) is migrated, an organization bootstrapped, and the servers registered through
the HTTP app in-process (ASGI) with loopback egress allowed. A ``JobRunner`` (what
``sprintconnect worker`` runs; ``--concurrency`` jobs at once) is started idle; then every
server gets a discovery through ``queue_discovery`` in one transaction, and the clock runs from
just before that transaction to the ``finished_at`` of the last discovery. Each discovery goes
the production way: outbox relay, procrastinate job, egress guard (its rate limit raised so it
does not throttle), snapshot and items written to PostgreSQL, structured logs (to a null
stream). Per-server durations are ``discoveries.finished_at - started_at``.

A warm-up pass of the bare client touches one server of each process before either is timed.
Run: ``python -m benchmarks discovery [--servers N --tools M --concurrency C]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import json
import logging
import math
import multiprocessing
import os
import random
import secrets
import socket
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
from pydantic import Field

from .fleet import await_ports
from .stats import percentile

DOMAINS: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "crm",
        "customer relationship",
        [
            ("contact", "contacts"),
            ("account", "accounts"),
            ("lead", "leads"),
            ("opportunity", "opportunities"),
            ("note", "notes"),
        ],
    ),
    (
        "billing",
        "billing",
        [
            ("invoice", "invoices"),
            ("payment", "payments"),
            ("subscription", "subscriptions"),
            ("refund", "refunds"),
            ("coupon", "coupons"),
        ],
    ),
    (
        "inventory",
        "inventory",
        [
            ("item", "items"),
            ("warehouse", "warehouses"),
            ("stock_level", "stock_levels"),
            ("supplier", "suppliers"),
            ("purchase_order", "purchase_orders"),
        ],
    ),
    (
        "support",
        "customer support",
        [
            ("ticket", "tickets"),
            ("comment", "comments"),
            ("macro", "macros"),
            ("sla_policy", "sla_policies"),
            ("agent", "agents"),
        ],
    ),
    (
        "devops",
        "delivery",
        [
            ("deployment", "deployments"),
            ("pipeline", "pipelines"),
            ("incident", "incidents"),
            ("alert", "alerts"),
            ("runbook", "runbooks"),
        ],
    ),
    (
        "hr",
        "human resources",
        [
            ("employee", "employees"),
            ("leave_request", "leave_requests"),
            ("payslip", "payslips"),
            ("review", "reviews"),
            ("position", "positions"),
        ],
    ),
    (
        "analytics",
        "analytics",
        [
            ("dashboard", "dashboards"),
            ("report", "reports"),
            ("metric", "metrics"),
            ("segment", "segments"),
            ("funnel", "funnels"),
        ],
    ),
    (
        "shipping",
        "shipping",
        [
            ("shipment", "shipments"),
            ("label", "labels"),
            ("carrier", "carriers"),
            ("pickup", "pickups"),
            ("return", "returns"),
        ],
    ),
]

# verb: (plural entity in the name?, what it does, a second sentence of detail)
VERBS: dict[str, tuple[bool, str, str]] = {
    "list": (True, "List {plural}", "Results are paginated; pass the returned cursor to continue."),
    "get": (False, "Fetch one {singular} by id", "Related records can be expanded inline."),
    "create": (False, "Create a {singular}", "The new record is returned with its id."),
    "update": (False, "Change fields of a {singular}", "Only the fields given are changed."),
    "delete": (False, "Delete a {singular}", "Soft-deletes unless hard is set; audited."),
    "search": (True, "Full-text search over {plural}", "Matches names, notes and custom fields."),
    "archive": (False, "Archive a {singular}", "Archived records leave default listings."),
    "export": (True, "Export {plural} to a file", "Returns a download link valid for 1 hour."),
    "restore": (False, "Restore an archived {singular}", "Fails if the id was hard-deleted."),
    "count": (True, "Count {plural} over a period", "Optionally grouped by a dimension."),
    "assign": (False, "Assign a {singular} to a person", "The assignee is notified by email."),
    "summarize": (False, "Summarize a {singular}", "Uses the history and notes of the record."),
}

ID = Annotated[str, Field(description="Record id", pattern=r"^[a-z]{2,4}_[A-Za-z0-9]{12}$")]
EMAIL = Annotated[str, Field(description="Email address", pattern=r"^[^@\s]+@[^@\s]+$")]
DAY = Annotated[str, Field(description="A day, YYYY-MM-DD", pattern=r"^\d{4}-\d{2}-\d{2}$")]
LIMIT = Annotated[int, Field(description="Page size", ge=1, le=500)]


def _params(verb: str) -> list[tuple[str, Any, Any]]:
    """(name, annotation, default) of a verb's parameters; ``inspect.Parameter.empty``: required."""
    req = inspect.Parameter.empty
    table: dict[str, list[tuple[str, Any, Any]]] = {
        "list": [
            ("limit", LIMIT, 50),
            ("cursor", Annotated[str | None, Field(description="From a previous page")], None),
            ("sort", Literal["created_at", "updated_at", "name"], "created_at"),
            ("include_archived", bool, False),
        ],
        "get": [("id", ID, req), ("expand", list[str], [])],
        "create": [
            ("name", Annotated[str, Field(description="Display name", max_length=200)], req),
            ("description", Annotated[str | None, Field(max_length=4000)], None),
            ("tags", list[str], []),
            ("owner_email", EMAIL, req),
        ],
        "update": [
            ("id", ID, req),
            ("name", str | None, None),
            ("status", Literal["open", "pending", "closed"] | None, None),
            ("custom_fields", dict[str, str] | None, None),
            (
                "if_match",
                Annotated[str | None, Field(description="ETag of the version read")],
                None,
            ),
        ],
        "delete": [("id", ID, req), ("reason", str | None, None), ("hard", bool, False)],
        "search": [
            ("query", Annotated[str, Field(min_length=1, max_length=500)], req),
            ("filters", dict[str, str] | None, None),
            ("limit", LIMIT, 20),
        ],
        "archive": [("id", ID, req), ("note", str | None, None)],
        "export": [
            ("format", Literal["csv", "json", "xlsx"], "csv"),
            ("since", DAY, req),
            ("until", DAY | None, None),
        ],
        "restore": [("id", ID, req)],
        "count": [
            ("since", DAY, req),
            ("group_by", Literal["day", "week", "month", "owner", "status"] | None, None),
        ],
        "assign": [("id", ID, req), ("assignee_email", EMAIL, req), ("notify", bool, True)],
        "summarize": [
            ("id", ID, req),
            ("max_words", Annotated[int, Field(ge=20, le=1000)], 150),
            ("language", Literal["en", "de", "fr", "es", "ja"], "en"),
        ],
    }
    return table[verb]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    verb: str


def tool_specs(index: int, count: int) -> list[ToolSpec]:
    """``count`` distinct tools for server ``index``, drawn from its domain's verbs x entities."""
    prefix, area, entities = DOMAINS[index % len(DOMAINS)]
    rng = random.Random(index)
    combos = [(verb, entity) for verb in VERBS for entity in entities]
    rng.shuffle(combos)
    specs = []
    for n in range(count):
        verb, (singular, plural) = combos[n % len(combos)]
        in_name, what, detail = VERBS[verb]
        name = f"{prefix}_{verb}_{plural if in_name else singular}"
        if n >= len(combos):
            name += f"_v{n // len(combos) + 1}"
        words = {"singular": singular.replace("_", " "), "plural": plural.replace("_", " ")}
        description = f"{what.format(**words)} in the {area} system. {detail}"
        specs.append(ToolSpec(name, description, verb))
    return specs


def _tool_function(spec: ToolSpec) -> Callable[..., Any]:
    async def tool(**arguments: Any) -> str:
        return json.dumps({"tool": spec.name, "arguments": arguments}, default=str)

    parameters = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=default)
        for name, kind, default in _params(spec.verb)
    ]
    tool.__signature__ = inspect.Signature(parameters, return_annotation=str)  # type: ignore[attr-defined]
    tool.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": str}
    tool.__name__ = tool.__qualname__ = spec.name
    tool.__doc__ = spec.description
    return tool


def build_server(index: int, tools: int) -> Any:
    from mcp.server.mcpserver import MCPServer

    prefix = DOMAINS[index % len(DOMAINS)][0]
    server = MCPServer(
        f"{prefix}-service-{index:03d}",
        version="1.4.2",
        log_level="WARNING",
        instructions=f"Tools of the {prefix} service, tenant shard {index}.",
    )
    for spec in tool_specs(index, tools):
        server.add_tool(_tool_function(spec), name=spec.name, description=spec.description)
    return server


def _serve_group(first: int, count: int, tools: int, ready: Connection) -> None:
    """Child process: one uvicorn serving servers ``first..first+count-1`` at /s/<n>/mcp."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.routing import Mount

    servers = [build_server(n, tools) for n in range(first, first + count)]
    routes = [
        Mount(f"/s/{n}", app=server.streamable_http_app(streamable_http_path="/mcp"))
        for n, server in zip(range(first, first + count), servers, strict=True)
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for server in servers:
                await stack.enter_async_context(server.session_manager.run())
            yield

    # Bound but not listening until uvicorn is up: a connection succeeds only when ready.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    ready.send(sock.getsockname()[1])
    ready.close()
    config = uvicorn.Config(
        Starlette(routes=routes, lifespan=lifespan),
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    uvicorn.Server(config).run(sockets=[sock])


@contextlib.contextmanager
def server_fleet(servers: int, tools: int, processes: int) -> Iterator[list[str]]:
    """Start the servers in ``processes`` child processes; yield every server's MCP URL."""
    context = multiprocessing.get_context("spawn")
    per = math.ceil(servers / processes)
    children: list[tuple[Any, int, int]] = []  # (process, first, count)
    pipes = []
    try:
        for first in range(0, servers, per):
            count = min(per, servers - first)
            receive, send = context.Pipe(duplex=False)
            child = context.Process(
                target=_serve_group, args=(first, count, tools, send), daemon=True
            )
            child.start()
            send.close()
            children.append((child, first, count))
            pipes.append(receive)
        ports = await_ports([c for c, _, _ in children], pipes, seconds=180)
        yield [
            f"http://127.0.0.1:{port}/s/{n}/mcp"
            for (_, first, count), port in zip(children, ports, strict=True)
            for n in range(first, first + count)
        ]
    finally:
        for child, _, _ in children:
            child.terminate()
        for child, _, _ in children:
            child.join(10)
            if child.is_alive():
                child.kill()
                child.join()


# -- the bare SDK client ---------------------------------------------------------------------


async def bare_discover(url: str) -> int:
    """Initialize and list everything, page by page, as a plain SDK client; items seen."""
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from mcp_types import PaginatedRequestParams

    seen = 0
    async with (
        streamable_http_client(url) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        caps = session.server_capabilities
        listings: list[tuple[bool, Callable[..., Any], str]] = [
            (bool(caps and caps.tools), session.list_tools, "tools"),
            (bool(caps and caps.resources), session.list_resources, "resources"),
            (
                bool(caps and caps.resources),
                session.list_resource_templates,
                "resource_templates",
            ),
            (bool(caps and caps.prompts), session.list_prompts, "prompts"),
        ]
        for supported, lister, attribute in listings:
            if not supported:
                continue
            cursor: str | None = None
            while True:
                params = PaginatedRequestParams(cursor=cursor) if cursor else None
                listing = await lister(params=params)
                seen += len(getattr(listing, attribute))
                cursor = listing.next_cursor
                if not cursor:
                    break
    return seen


async def run_baseline(urls: list[str], tools: int) -> tuple[float, list[float]]:
    durations = []
    started = time.perf_counter()
    for url in urls:
        begun = time.perf_counter()
        seen = await bare_discover(url)
        durations.append(time.perf_counter() - begun)
        if seen != tools:
            raise RuntimeError(f"bare client saw {seen} items at {url}, expected {tools}")
    return time.perf_counter() - started, durations


# -- SprintConnect ---------------------------------------------------------------------------


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def scratch_database(data_dir: Path) -> Iterator[tuple[str, str]]:
    """A new empty database: (URL, where it lives); dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from sprintconnect.db.embedded import embedded_url, release_embedded
    from sprintconnect.db.urls import normalize

    local = _port_open("127.0.0.1", 5432)
    admin = (
        "postgresql://postgres@127.0.0.1:5432/postgres" if local else embedded_url(data_dir / "pg")
    )
    name = f"sc_bench_{uuid.uuid4().hex[:10]}"
    engine = create_engine(normalize(admin), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(admin).set(database=name).render_as_string(hide_password=False)
        yield url, ("PostgreSQL on 127.0.0.1:5432" if local else "embedded PostgreSQL")
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
        if not local:
            release_embedded(data_dir / "pg")


async def _queue(session: Any, server: Any, queue_discovery: Any, actor: Any) -> None:
    await queue_discovery(session, server, force_refresh=False, requested_by=None, actor=actor)


@dataclass
class WorkerResult:
    wall_seconds: float
    durations: list[float]
    queue_waits: list[float]
    failed: list[str]


async def run_sprintconnect(
    urls: list[str], tools: int, concurrency: int, database_url: str, data_dir: Path
) -> WorkerResult:
    from sqlalchemy import select

    from sprintconnect.api_key.service import ApiKeyService
    from sprintconnect.app import create_app
    from sprintconnect.config import Settings
    from sprintconnect.db import migrate
    from sprintconnect.db.tenancy import bind_tenant
    from sprintconnect.discovery.repository import ACTIVE
    from sprintconnect.discovery.service import queue_discovery
    from sprintconnect.identity.principal import Actor
    from sprintconnect.jobs.context import TaskServices
    from sprintconnect.jobs.runner import JobRunner
    from sprintconnect.models import CapabilitySnapshot, Discovery, McpServer
    from sprintconnect.organization.service import bootstrap
    from sprintconnect.runtime import build_runtime
    from sprintconnect.secret import build_secret_store

    options: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir / "data",
        "secret_key": secrets.token_urlsafe(48),
        "inprocess_worker": False,
        "worker_concurrency": concurrency,
        "egress_allow_loopback": True,
        # The per-organization egress limit still runs, raised so it does not throttle.
        "egress_rate_limit": "1000000/minute",
        "api_key_rate_limit": "1000000/minute",
        "log_level": "info",
        "log_format": "json",
        "_env_file": None,  # the benchmark's settings only, whatever a .env file says
    }
    settings = Settings(**options)
    runtime = build_runtime(settings)
    await asyncio.to_thread(migrate.upgrade, runtime.db)
    async with runtime.db.sessionmaker() as session, session.begin():
        keys = ApiKeyService(session, runtime.keyring, runtime.clock)
        booted = await bootstrap(
            session, keys, org_name="Discovery Bench", email="bench@example.com"
        )
    org_id, headers = (
        booted.organization.id,
        {"Authorization": f"Bearer {booted.api_key.plaintext}"},
    )

    app = create_app(runtime=runtime)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://sprintconnect"
        ) as api,
    ):
        for n, url in enumerate(urls):
            answer = await api.post(
                "/api/v1/servers",
                json={
                    "name": f"bench-{n:04d}",
                    "url": url,
                    "environment": "staging",
                    "auto_discover": False,
                },
                headers=headers,
            )
            if answer.status_code != 201:
                raise RuntimeError(f"registration failed: {answer.status_code} {answer.text}")

    secret_store = build_secret_store(runtime)
    runner = JobRunner(TaskServices(runtime=runtime, secrets=secret_store))
    await runner.start()
    try:
        await asyncio.sleep(1.0)  # an idle, listening worker, as a deployed one would be
        started_at = datetime.now(UTC)
        async with runtime.db.sessionmaker() as session, session.begin():
            await bind_tenant(session, org_id)
            servers = (
                await session.scalars(select(McpServer).where(McpServer.org_id == org_id))
            ).all()
            for server in servers:
                await _queue(session, server, queue_discovery, Actor("system", "benchmark"))
        deadline = time.monotonic() + 600
        while True:
            await asyncio.sleep(0.2)
            async with runtime.db.sessionmaker() as session, session.begin():
                await bind_tenant(session, org_id)
                rows = (
                    await session.scalars(select(Discovery).where(Discovery.org_id == org_id))
                ).all()
            if rows and all(r.status not in ACTIVE for r in rows):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("discoveries did not finish within 10 minutes")
        async with runtime.db.sessionmaker() as session, session.begin():
            await bind_tenant(session, org_id)
            counts = (
                await session.scalars(
                    select(CapabilitySnapshot.counts).where(CapabilitySnapshot.org_id == org_id)
                )
            ).all()
    finally:
        await runner.stop()
        await secret_store.close()
        await runtime.db.dispose()
    failed = [
        f"{r.server_id}: {r.status} {r.reason} {r.error}" for r in rows if r.status != "succeeded"
    ]
    wrong = [c for c in counts if c != {"tool": tools}]
    if wrong:
        failed.append(f"{len(wrong)} snapshots without exactly {tools} tools, e.g. {wrong[0]}")
    finished = [r.finished_at for r in rows if r.finished_at is not None]
    return WorkerResult(
        wall_seconds=(max(finished) - started_at).total_seconds(),
        durations=[
            (r.finished_at - r.started_at).total_seconds()
            for r in rows
            if r.finished_at and r.started_at
        ],
        queue_waits=[(r.started_at - r.created_at).total_seconds() for r in rows if r.started_at],
        failed=failed,
    )


# -- the run ---------------------------------------------------------------------------------


def _line(label: str, servers: int, seconds: float, durations: list[float]) -> None:
    print(
        f"  {label:<34} {servers / seconds:7.1f} servers/s  total {seconds:6.2f}s  "
        f"per server p50={percentile(durations, 50) * 1e3:7.1f}ms "
        f"p95={percentile(durations, 95) * 1e3:7.1f}ms"
    )


async def run(args: argparse.Namespace, urls: list[str], database_url: str, where: str) -> None:
    per_process = sorted({url.split("/s/", 1)[0] for url in urls})
    warm = [next(u for u in urls if u.startswith(base + "/")) for base in per_process]
    for url in warm:
        await bare_discover(url)
    base_seconds, base_durations = await run_baseline(urls, args.tools)
    _line("bare mcp SDK client, sequential", len(urls), base_seconds, base_durations)
    with tempfile.TemporaryDirectory(prefix="sc-bench-") as folder:
        result = await run_sprintconnect(
            urls, args.tools, args.concurrency, database_url, Path(folder)
        )
    _line(
        f"SprintConnect worker, concurrency {args.concurrency}",
        len(urls),
        result.wall_seconds,
        result.durations,
    )
    print(
        f"  queue wait (created -> started)    p50={percentile(result.queue_waits, 50):.2f}s "
        f"p95={percentile(result.queue_waits, 95):.2f}s  [{where}]"
    )
    print(
        f"  ratio SprintConnect/bare: throughput "
        f"{base_seconds / result.wall_seconds:.2f}x, wall time "
        f"{result.wall_seconds / base_seconds:.2f}x; per-server p50 "
        f"{percentile(result.durations, 50) / percentile(base_durations, 50):.2f}x"
    )
    if result.failed:
        print(f"  FAILED discoveries: {len(result.failed)}; first: {result.failed[0]}")
        raise SystemExit(1)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks discovery",
        description="Discovery of real MCP servers (started here, in several uvicorn "
        "processes) through SprintConnect's worker, against listing them with the bare MCP "
        "SDK client. Uses the machine's PostgreSQL on 127.0.0.1:5432 when it is up, else "
        "the embedded one.",
        epilog="The ratio to the bare client is the comparable figure.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a short run: 20 servers of 10 tools in 2 processes"
    )
    parser.add_argument("--servers", type=int, default=200, help="MCP servers (default 200)")
    parser.add_argument("--tools", type=int, default=50, help="tools per server (default 50)")
    parser.add_argument("--concurrency", type=int, default=4, help="worker_concurrency (default 4)")
    parser.add_argument(
        "--server-processes", type=int, default=10, help="processes serving them (default 10)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        parser.set_defaults(servers=20, tools=10, server_processes=2)
        args = parser.parse_args(argv)
    if min(args.servers, args.tools, args.concurrency, args.server_processes) < 1:
        parser.error("every number must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    from sprintconnect.logging import configure_logging

    args = parse(argv or [])
    processes = min(args.server_processes, args.servers)
    configure_logging("info", "json")
    # Discoveries log as in production, into a null stream so the terminal stays readable.
    handler = logging.getLogger().handlers[0]
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(open(os.devnull, "w"))  # noqa: SIM115
    print(
        f"  dataset: {args.servers} MCP servers x {args.tools} tools in {processes} "
        f"uvicorn processes; worker concurrency {args.concurrency}",
        flush=True,
    )
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="sc-bench-pg-") as folder,
        scratch_database(Path(folder)) as (database_url, where),
        server_fleet(args.servers, args.tools, processes) as urls,
    ):
        print(f"  servers up in {time.perf_counter() - started:.1f}s", flush=True)
        asyncio.run(run(args, urls, database_url, where))
