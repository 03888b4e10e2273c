"""CSRF protection for requests authenticated by the session cookie.

A request that changes something needs the session's CSRF token (``X-CSRF-Token``, or a
form's ``csrf_token``) and must not be marked cross-site by the browser (``Origin``,
``Sec-Fetch-Site``). The token is derived from the cookie, so nothing more is stored.
"""

from __future__ import annotations

import base64
import hmac
from urllib.parse import urlsplit

from fastapi import Request

from sprintconnect.identity.session.errors import (
    CrossSiteRequest,
    CsrfTokenInvalid,
    CsrfTokenMissing,
)
from sprintconnect.runtime import Runtime

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_PURPOSE = "session-csrf"


def csrf_token(runtime: Runtime, cookie: str) -> str:
    """The session's CSRF token: derived from its cookie, so nothing more is stored."""
    digest = runtime.keyring.hmac(CSRF_PURPOSE, cookie.encode())
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def check_csrf(request: Request, runtime: Runtime, cookie: str, *, sent: str | None = None) -> None:
    """Refuse a cookie-authenticated request that changes something without the CSRF token
    (``X-CSRF-Token``, or ``sent`` from a form), or that a browser marks as cross-site."""
    if request.method in SAFE_METHODS:
        return
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site.lower() not in ("same-origin", "none"):
        raise CrossSiteRequest("A request from another site cannot use your session.")
    origin = request.headers.get("origin")
    if origin is not None:
        base = urlsplit(runtime.settings.base_url)
        given = urlsplit(origin)
        if (given.scheme, given.netloc.lower()) != (base.scheme, base.netloc.lower()):
            raise CrossSiteRequest("A request from another origin cannot use your session.")
    sent = request.headers.get("x-csrf-token") or sent
    if not sent:
        raise CsrfTokenMissing(
            "Requests that change something need the X-CSRF-Token header; GET /auth/session "
            "answers the token."
        )
    if not hmac.compare_digest(sent.encode(), csrf_token(runtime, cookie).encode()):
        raise CsrfTokenInvalid("The X-CSRF-Token header does not match this session.")
