"""Taking credentials out of free text (error messages) before it is stored or shown."""

from __future__ import annotations

import re

REDACTED = "[redacted]"

# scheme://user:password@host -> scheme://[redacted]@host (any userinfo, even a bare user).
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@?#]*@")
# ?token=...&password=...: values of query parameters whose names speak of secrets.
_SECRET_PARAM = re.compile(
    r"(?i)([?&;][^=&\s]*(?:pass|pwd|secret|token|key|auth|signature|sig|credential)[^=&\s]*=)"
    r"[^&\s#]*"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]+")
_API_KEY = re.compile(r"\bsc_[a-z0-9]{12}_[A-Za-z0-9_\-]{43}")


def redact_credentials(text: str) -> str:
    """``text`` with URL userinfo, secret query values, bearer tokens and our API keys masked."""
    text = _API_KEY.sub(REDACTED, text)
    text = _USERINFO.sub(rf"\1{REDACTED}@", text)
    text = _SECRET_PARAM.sub(rf"\1{REDACTED}", text)
    return _BEARER.sub(rf"\1 {REDACTED}", text)
