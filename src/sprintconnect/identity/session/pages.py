"""The small self-contained HTML pages of sign-in: a failure, and a sign-out confirmation.

No external assets, no scripts; every value is escaped.
"""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;"
    "color:#1f2328}h1{font-size:1.4rem}a.button,button{display:inline-block;padding:.5rem 1rem;"
    "border-radius:6px;background:#0969da;color:#fff;text-decoration:none;border:0;"
    "font-size:1rem;cursor:pointer}.reason{color:#57606a;font-size:.9rem}"
)
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _page(title: str, body: str, status: int) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)} · SprintConnect</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def failure_page(message: str, reason: str, retry_url: str | None, status: int) -> HTMLResponse:
    retry = (
        f'<p><a class="button" href="{escape(retry_url)}">Try signing in again</a></p>'
        if retry_url
        else "<p>Go back to the page you came from and start the sign-in again.</p>"
    )
    body = (
        f"<p>{escape(message)}</p>{retry}"
        f'<p class="reason">Reason code: <code>{escape(reason)}</code></p>'
    )
    return _page("Sign-in failed", body, status)


def logout_page(csrf: str | None) -> HTMLResponse:
    if csrf is None:
        return _page("You are signed out", "<p>There is no session in this browser.</p>", 200)
    body = (
        "<p>Sign out of SprintConnect in this browser?</p>"
        '<form method="post" action="/auth/logout">'
        f'<input type="hidden" name="csrf_token" value="{escape(csrf)}">'
        '<button type="submit">Sign out</button></form>'
    )
    return _page("Sign out", body, 200)


def signed_out_page(end_session_url: str | None) -> HTMLResponse:
    extra = (
        f'<p><a class="button" href="{escape(end_session_url)}">Also sign out of your '
        "identity provider</a></p>"
        if end_session_url
        else ""
    )
    return _page("You are signed out", f"<p>Your session has ended.</p>{extra}", 200)


def choose_org_page(return_to: str | None) -> HTMLResponse:
    """Sign-in without an organization: ask for its slug."""
    hidden = (
        f'<input type="hidden" name="return_to" value="{escape(return_to)}">' if return_to else ""
    )
    body = (
        "<p>Which organization do you want to sign in to?</p>"
        '<form method="get" action="/auth/login">'
        "<label>Organization (its short name, as in your sign-in link) "
        '<input name="org" required maxlength="100" pattern="[A-Za-z0-9-]+"></label> '
        f'{hidden}<button type="submit">Continue</button></form>'
    )
    return _page("Sign in", body, 200)
