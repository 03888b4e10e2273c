"""Request-scoped access to the gateway's process-wide parts."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from sprintconnect.gateway.calls import Gateway
from sprintconnect.gateway.service import ToolsetCache
from sprintconnect.identity.auth import Authenticator
from sprintconnect.identity.principal import Principal


def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def get_toolset_cache(request: Request) -> ToolsetCache:
    cache: ToolsetCache = request.app.state.toolset_cache
    return cache


GatewayDep = Annotated[Gateway, Depends(get_gateway)]
ToolsetCacheDep = Annotated[ToolsetCache, Depends(get_toolset_cache)]
ToolsInvoke = Annotated[Principal, Depends(Authenticator("tools:invoke"))]
ToolsetsRead = Annotated[Principal, Depends(Authenticator("toolsets:read"))]
ToolsetsWrite = Annotated[Principal, Depends(Authenticator("toolsets:write"))]
