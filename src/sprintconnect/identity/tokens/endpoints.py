"""OAuth endpoints: token, authorize, introspect, revoke; JWKS and server metadata.

One router (``app.py`` includes it) made of each endpoint module's, in this order.
"""

from __future__ import annotations

from fastapi import APIRouter

from sprintconnect.identity.tokens import (
    authorize_endpoint,
    discovery_endpoints,
    lifecycle_endpoints,
    token_endpoint,
)

router = APIRouter()
router.include_router(token_endpoint.router)
router.include_router(authorize_endpoint.router)
router.include_router(lifecycle_endpoints.router)
router.include_router(discovery_endpoints.router)
