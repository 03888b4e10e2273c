"""Typed principals, one per scope the endpoints ask for."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from sprintconnect.identity.auth import Authenticator
from sprintconnect.identity.principal import Principal

Authenticated = Annotated[Principal, Depends(Authenticator())]
ApiKeysRead = Annotated[Principal, Depends(Authenticator("api_keys:read"))]
ApiKeysWrite = Annotated[Principal, Depends(Authenticator("api_keys:write"))]
