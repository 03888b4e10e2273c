"""The processes of the gateway benchmark besides ``sprintconnect serve``: the upstream MCP server
and the ``mcp`` SDK client that loads either it or the gateway.

Each runs alone in a spawned process, so that neither shares an interpreter lock or an event
loop with the other or with the gateway: on a shared machine they still share its cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from .fleet import await_ports
from .stats import percentile

ECHO_TEXT = "hello through the gateway"
CALL_TIMEOUT = 30.0  # seconds: a call slower than this counts as an error, not a hang


# -- the upstream ------------------------------------------------------------------------------


def _serve_upstream(log_path: str, json_response: bool, ready: Connection) -> None:
    """Child process: an ``MCPServer`` with one ``echo`` tool under uvicorn, SDK defaults
    (stateful streamable HTTP, DNS-rebinding protection for loopback), answers as SSE streams
    unless ``json_response``."""
    import uvicorn
    from mcp.server.mcpserver import MCPServer

    # The SDK logs every session it ends: into a file, off the terminal.
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log_fd, 2)

    server = MCPServer("bench-upstream", version="1.0.0")

    def echo(text: str) -> str:
        """Answer with the text it was given."""
        return text

    server.add_tool(echo)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    ready.send(sock.getsockname()[1])
    ready.close()
    config = uvicorn.Config(
        server.streamable_http_app(json_response=json_response),
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    uvicorn.Server(config).run(sockets=[sock])


@dataclass
class Upstream:
    url: str
    pid: int


@contextlib.contextmanager
def upstream_server(log: Path, *, json_response: bool = False) -> Iterator[Upstream]:
    """The upstream in its own process: its MCP URL and pid."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(
        target=_serve_upstream, args=(str(log), json_response, send), daemon=True
    )
    child.start()
    send.close()
    try:
        (port,) = await_ports([child], [receive], seconds=60)
        assert child.pid is not None
        yield Upstream(f"http://127.0.0.1:{port}/mcp", child.pid)
    finally:
        child.terminate()
        child.join(10)
        if child.is_alive():
            child.kill()
            child.join()


# -- what a load measured ----------------------------------------------------------------------


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    wall: float = 0.0
    late: float = 0.0  # open loop: the client's worst lag behind the schedule, seconds
    began_at: float = 0.0  # wall clock (time.time) of the timed part: finds the gateway's rows
    ended_at: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per watched process

    def cpu_ms_per_call(self, name: str) -> float:
        spent = self.cpu.get(name)
        if spent is None or not self.latencies:
            return float("nan")
        return spent / len(self.latencies) * 1e3

    def rate(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0

    def ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1e3 if self.latencies else float("nan")

    def merged(self, other: Load) -> Load:
        """Both loads' samples and errors together (their rates are not added)."""
        return Load(
            self.latencies + other.latencies,
            self.errors + other.errors,
            self.first_error or other.first_error,
            late=max(self.late, other.late),
            cpu={k: self.cpu.get(k, 0.0) + other.cpu.get(k, 0.0) for k in {*self.cpu, *other.cpu}},
        )


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux ``/proc``), else None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuWatch:
    """CPU time that some processes spend between ``start`` and ``stop``."""

    def __init__(self, pids: dict[str, int], *, profiled: int | None = None) -> None:
        self.pids = {name: pid for name, pid in pids.items() if pid}
        self.before: dict[str, float | None] = {}
        self.profiled = profiled  # a ``gateway_profiled`` process: told to start and stop

    def start(self) -> None:
        if self.profiled:
            os.kill(self.profiled, signal.SIGUSR1)
        self.before = {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    def stop(self, load: Load) -> None:
        if self.profiled:
            os.kill(self.profiled, signal.SIGUSR2)
        for name, pid in self.pids.items():
            before, after = self.before.get(name), cpu_seconds(pid)
            if before is not None and after is not None:
                load.cpu[name] = after - before


# -- the SDK client ----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _sessions(url: str, headers: dict[str, str], count: int) -> AsyncIterator[list[Any]]:
    """``count`` initialized ``ClientSession``\\ s, each on its own HTTP client."""
    import httpx2
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with contextlib.AsyncExitStack() as stack:
        sessions = []
        for _ in range(count):
            client = await stack.enter_async_context(
                httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(CALL_TIMEOUT))
            )
            read, write = await stack.enter_async_context(
                streamable_http_client(url, http_client=client)
            )
            session = await stack.enter_async_context(
                ClientSession(read, write, read_timeout_seconds=CALL_TIMEOUT)
            )
            await session.initialize()
            sessions.append(session)
        yield sessions


async def _call(session: Any, load: Load) -> bool:
    """One ``tools/call`` of ``echo``; a refusal, a wrong answer or an exception is an error."""
    try:
        async with asyncio.timeout(CALL_TIMEOUT):
            result = await session.call_tool("echo", {"text": ECHO_TEXT})
        content = getattr(result, "content", None) or []
        text = getattr(content[0], "text", None) if content else None
        if getattr(result, "is_error", False) or text != ECHO_TEXT:
            raise RuntimeError(f"unexpected result: {str(result)[:500]}")
    except Exception as exc:
        load.errors += 1
        load.first_error = load.first_error or repr(exc)[:500]
        return False
    return True


async def _closed(sessions: list[Any], seconds: float, load: Load, watch: CpuWatch) -> None:
    """Every session calls again as soon as its answer is in, for ``seconds``."""
    stop_at = time.perf_counter() + seconds

    async def worker(session: Any) -> None:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            if await _call(session, load):
                load.latencies.append(time.perf_counter() - started)

    load.began_at = time.time()
    watch.start()
    started = time.perf_counter()
    await asyncio.gather(*(worker(s) for s in sessions))
    load.wall = time.perf_counter() - started
    watch.stop(load)
    load.ended_at = time.time()


async def _open(
    sessions: list[Any], rate: float, seconds: float, load: Load, watch: CpuWatch
) -> None:
    """Call ``i`` is due at ``i / rate`` s whatever became of the earlier ones; it waits for an
    idle session if none is free, and its latency counts from when it was due."""
    idle: asyncio.Queue[Any] = asyncio.Queue()
    for session in sessions:
        idle.put_nowait(session)
    running: set[asyncio.Task[None]] = set()

    async def one(due: float) -> None:
        session = await idle.get()
        try:
            if await _call(session, load):
                load.latencies.append(time.perf_counter() - due)
        finally:
            idle.put_nowait(session)

    load.began_at = time.time()
    watch.start()
    start = time.perf_counter() + 0.05
    for i in range(max(1, round(rate * seconds))):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            load.late = max(load.late, -delay)
        task = asyncio.create_task(one(due))
        running.add(task)
        task.add_done_callback(running.discard)
    while running:
        await asyncio.gather(*running)
    load.wall = time.perf_counter() - start
    watch.stop(load)
    load.ended_at = time.time()


async def run_job(job: dict[str, Any]) -> Load:
    """Open the job's sessions, warm them (untimed, the same load), then measure."""
    watch = CpuWatch({"client": os.getpid(), **job.get("watch", {})}, profiled=job.get("profiled"))
    unwatched = CpuWatch({})
    async with _sessions(job["url"], job["headers"], job["sessions"]) as sessions:
        if job["kind"] == "closed":
            await _closed(sessions, job["warmup"], Load(), unwatched)
            load = Load()
            await _closed(sessions, job["seconds"], load, watch)
        else:
            await _open(sessions, job["rate"], job["warmup"], Load(), unwatched)
            load = Load()
            await _open(sessions, job["rate"], job["seconds"], load, watch)
    return load


def _client(jobs: Connection) -> None:
    """Child process: run each job sent on ``jobs`` and answer what it measured; None stops."""
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner:
        while (job := jobs.recv()) is not None:
            try:
                jobs.send(runner.run(run_job(job)))
            except Exception as exc:  # the sessions could not be opened: the parent says so
                jobs.send(exc)


class Client:
    """The SDK client in its own process, one job at a time."""

    def __init__(self, pipe: Connection) -> None:
        self.pipe = pipe

    def run(self, job: dict[str, Any], *, timeout: float) -> Load:
        self.pipe.send(job)
        if not self.pipe.poll(timeout):
            raise RuntimeError(f"the client did not finish a job in {timeout:.0f} s: {job}")
        answer = self.pipe.recv()
        if isinstance(answer, Exception):
            raise RuntimeError(f"the client failed on {job['url']}: {answer!r}") from answer
        load: Load = answer
        return load


@contextlib.contextmanager
def client_process() -> Iterator[Client]:
    context = multiprocessing.get_context("spawn")
    mine, theirs = context.Pipe(duplex=True)
    child = context.Process(target=_client, args=(theirs,), daemon=True)
    child.start()
    theirs.close()
    try:
        yield Client(mine)
    finally:
        with contextlib.suppress(OSError):
            mine.send(None)
        child.join(20)
        if child.is_alive():
            child.kill()
            child.join()
