"""Step-up: sensitive operations need a recent (and, when configured, strong enough) sign-in.

``require_recent_sign_in`` answers 401 ``step-up-required`` with an RFC 9470 challenge
(``WWW-Authenticate: Bearer error="insufficient_user_authentication", max_age=..,
acr_values=..``) and the login URL (``prompt=login&max_age=..``) the console follows. API
keys and service accounts are not asked: they carry no human sign-in.
"""

from __future__ import annotations

from fastapi import Request

from sprintconnect.identity.principal import Principal
from sprintconnect.identity.session.errors import StepUpRequired
from sprintconnect.identity.session.links import login_url


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def step_up_challenge(max_age: int, acr: str | None) -> str:
    parts = [
        'realm="sprintconnect"',
        'error="insufficient_user_authentication"',
        'error_description="A more recent sign-in is required"',
        f"max_age={max_age}",
    ]
    if acr:
        parts.append(f"acr_values={_quoted(acr)}")
    return "Bearer " + ", ".join(parts)


async def require_recent_sign_in(request: Request, principal: Principal) -> None:
    """Raise ``StepUpRequired`` unless the human behind ``principal`` signed in recently."""
    if principal.credential == "api_key" or principal.service_account_id is not None:
        return
    if principal.credential == "token" and principal.auth_time is None:
        return
    settings = request.app.state.runtime.settings
    max_age = settings.step_up_max_age_seconds
    acr = settings.step_up_acr
    now = request.app.state.runtime.clock.now()
    too_old = principal.auth_time is None or (now - principal.auth_time).total_seconds() > max_age
    too_weak = bool(acr) and principal.acr != acr
    if not (too_old or too_weak):
        return
    return_to = request.headers.get("x-return-to")
    if return_to is None or not return_to.startswith("/") or return_to.startswith("//"):
        return_to = None
    url = login_url(
        settings.base_url, principal.org_slug, return_to, prompt="login", max_age=max_age
    )
    raise StepUpRequired(
        "This operation needs a recent sign-in"
        + (f" with authentication level {acr}" if too_weak else "")
        + ". Sign in again and retry.",
        challenge=step_up_challenge(max_age, acr),
        login_url=url,
        max_age=max_age,
        acr_values=acr,
    )
