"""The registry's request-scoped dependencies, built from what the app holds."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from sprintconnect.db.session import get_runtime
from sprintconnect.mcp_server.connector import Network, TokenCache
from sprintconnect.mcp_server.service import Deps


def get_deps(request: Request) -> Deps:
    runtime = get_runtime(request)
    return Deps(
        settings=runtime.settings,
        clock=runtime.clock,
        secrets=request.app.state.secret_store,
        authorizer=request.app.state.authorizer,
    )


def get_network(request: Request) -> Network:
    network: Network = getattr(request.app.state, "network", None) or Network()
    return network


def get_token_cache(request: Request) -> TokenCache:
    cache: TokenCache = request.app.state.token_cache
    return cache


ServerDeps = Annotated[Deps, Depends(get_deps)]
NetworkDep = Annotated[Network, Depends(get_network)]
TokenCacheDep = Annotated[TokenCache, Depends(get_token_cache)]
