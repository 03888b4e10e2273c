"""Typed principals, one per permission the endpoints ask for."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from sprintconnect.db.session import DbSession
from sprintconnect.identity.auth import Authenticator, PlatformOperator
from sprintconnect.identity.principal import Principal


class RecentSignIn(Authenticator):
    """``Authenticator`` for sensitive operations: a human's session or token must also come
    from a recent enough sign-in (step-up, ``identity.session.stepup``); API keys and service
    accounts carry no sign-in and are not asked.
    """

    async def __call__(self, request: Request, session: DbSession) -> Principal:
        principal = await super().__call__(request, session)
        from sprintconnect.identity.session.stepup import require_recent_sign_in

        await require_recent_sign_in(request, principal)
        return principal


Authenticated = Annotated[Principal, Depends(Authenticator())]
ApiKeysRead = Annotated[Principal, Depends(Authenticator("api_keys:read"))]
ApiKeysWrite = Annotated[Principal, Depends(Authenticator("api_keys:write"))]
UsersRead = Annotated[Principal, Depends(Authenticator("users:read"))]
UsersWrite = Annotated[Principal, Depends(Authenticator("users:write"))]
RolesRead = Annotated[Principal, Depends(Authenticator("roles:read"))]
RolesWrite = Annotated[Principal, Depends(Authenticator("roles:write"))]
PoliciesRead = Annotated[Principal, Depends(Authenticator("policies:read"))]
PoliciesWrite = Annotated[Principal, Depends(Authenticator("policies:write"))]
# Publishing or rolling back a policy changes what everyone may do: step-up applies.
PoliciesPublish = Annotated[Principal, Depends(RecentSignIn("policies:write"))]
CapabilitiesRead = Annotated[Principal, Depends(Authenticator("capabilities:read"))]
DiscoveryRead = Annotated[Principal, Depends(Authenticator("discovery:read"))]
OrgRead = Annotated[Principal, Depends(Authenticator("org:read"))]
OrgWrite = Annotated[Principal, Depends(Authenticator("org:write"))]
ServersRead = Annotated[Principal, Depends(Authenticator("servers:read"))]
ServersWrite = Annotated[Principal, Depends(Authenticator("servers:write"))]
# Deleting a server (and its stored credentials) cannot be undone: step-up applies.
ServersDelete = Annotated[Principal, Depends(RecentSignIn("servers:write"))]
ServiceAccountsRead = Annotated[Principal, Depends(Authenticator("service_accounts:read"))]
ServiceAccountsWrite = Annotated[Principal, Depends(Authenticator("service_accounts:write"))]
# A new client secret is a new credential: step-up applies.
ServiceAccountsRotate = Annotated[Principal, Depends(RecentSignIn("service_accounts:write"))]
# Platform operators (users.is_super_admin): reading with a ``read`` key, changing with ``admin``.
SuperAdminRead = Annotated[Principal, Depends(PlatformOperator("read"))]
SuperAdmin = Annotated[Principal, Depends(PlatformOperator("admin"))]
