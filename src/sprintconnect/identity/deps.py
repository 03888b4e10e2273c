"""Typed principals, one per permission the endpoints ask for."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from sprintconnect.identity.auth import Authenticator, PlatformOperator
from sprintconnect.identity.principal import Principal

Authenticated = Annotated[Principal, Depends(Authenticator())]
ApiKeysRead = Annotated[Principal, Depends(Authenticator("api_keys:read"))]
ApiKeysWrite = Annotated[Principal, Depends(Authenticator("api_keys:write"))]
UsersRead = Annotated[Principal, Depends(Authenticator("users:read"))]
UsersWrite = Annotated[Principal, Depends(Authenticator("users:write"))]
RolesRead = Annotated[Principal, Depends(Authenticator("roles:read"))]
RolesWrite = Annotated[Principal, Depends(Authenticator("roles:write"))]
PoliciesRead = Annotated[Principal, Depends(Authenticator("policies:read"))]
PoliciesWrite = Annotated[Principal, Depends(Authenticator("policies:write"))]
CapabilitiesRead = Annotated[Principal, Depends(Authenticator("capabilities:read"))]
DiscoveryRead = Annotated[Principal, Depends(Authenticator("discovery:read"))]
OrgRead = Annotated[Principal, Depends(Authenticator("org:read"))]
OrgWrite = Annotated[Principal, Depends(Authenticator("org:write"))]
ServersRead = Annotated[Principal, Depends(Authenticator("servers:read"))]
ServersWrite = Annotated[Principal, Depends(Authenticator("servers:write"))]
# Platform operators (users.is_super_admin): reading with a ``read`` key, changing with ``admin``.
SuperAdminRead = Annotated[Principal, Depends(PlatformOperator("read"))]
SuperAdmin = Annotated[Principal, Depends(PlatformOperator("admin"))]
