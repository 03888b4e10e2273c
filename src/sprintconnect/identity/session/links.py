"""Links into sign-in: an organization's login URL, and the page to return to afterwards."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from sprintconnect.identity.session.errors import SignInFailed


def safe_return_to(value: str | None) -> str:
    """``value`` when it is a path on this origin, else raise (never an open redirect)."""
    if not value:
        return "/"
    parts = urlsplit(value)
    if (
        not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or parts.scheme
        or parts.netloc
        or any(ord(c) < 0x21 or ord(c) == 0x7F for c in value)
        or len(value) > 2000
    ):
        raise SignInFailed(
            "return_to",
            "The page to return to after signing in must be a path on this site.",
            status=400,
        )
    return value


def login_url(
    base_url: str,
    slug: str,
    return_to: str | None = None,
    *,
    prompt: str | None = None,
    max_age: int | None = None,
) -> str:
    params: dict[str, str] = {"org": slug}
    if return_to:
        params["return_to"] = return_to
    if prompt:
        params["prompt"] = prompt
    if max_age is not None:
        params["max_age"] = str(max_age)
    return f"{base_url}/auth/login?{urlencode(params)}"
