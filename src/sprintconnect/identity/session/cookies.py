"""The cookies of sign-in: the session, and the short-lived binding of a sign-in to a browser.

With an https public URL: ``__Host-`` names, ``Secure``, ``HttpOnly``, ``SameSite=Lax``,
``Path=/``. Browsers refuse ``__Host-`` and ``Secure`` cookies over plain http, so on an http
URL (development on loopback) the cookies drop the prefix and the ``Secure`` flag.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import Request, Response

from sprintconnect.config import Settings

BINDING_SECONDS = 600


@dataclass(frozen=True)
class CookieNames:
    session: str
    binding: str
    secure: bool


def cookie_names(settings: Settings) -> CookieNames:
    secure = urlsplit(settings.base_url).scheme == "https"
    prefix = "__Host-" if secure else ""
    return CookieNames(f"{prefix}sc_session", f"{prefix}sc_login", secure)


def session_cookie(request: Request) -> str | None:
    """The session cookie's value, if the request carries one."""
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None:
        return None
    value = request.cookies.get(cookie_names(runtime.settings).session)
    return value or None


def set_cookie(response: Response, settings: Settings, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=cookie_names(settings).secure,
        httponly=True,
        samesite="lax",
    )


def clear_cookie(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(
        name, path="/", secure=cookie_names(settings).secure, httponly=True, samesite="lax"
    )
