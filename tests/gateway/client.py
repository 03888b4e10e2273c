"""An ``mcp`` SDK client of a toolset endpoint, over the app in process (httpx2's ASGI
transport) or over a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client


@asynccontextmanager
async def gateway_session(
    url: str, headers: dict[str, str], *, app: Any = None, seconds: float = 30.0
) -> AsyncIterator[ClientSession]:
    transport = httpx2.ASGITransport(app=app) if app is not None else None
    client = httpx2.AsyncClient(
        headers=headers,
        timeout=httpx2.Timeout(seconds),
        **({"transport": transport} if transport is not None else {}),
    )
    async with (
        client,
        streamable_http_client(url, http_client=client) as (read, write, *_),
        ClientSession(read, write, read_timeout_seconds=seconds) as session,
    ):
        await session.initialize()
        yield session
