"""``WWW-Authenticate`` challenges: RFC 6750 section 3 (Bearer) and RFC 9449 section 7.1 (DPoP).

Values are quoted strings; characters RFC 6750 does not allow in them (``"``, ``\\``, controls,
non-ASCII) are replaced, so a description can never break out of its quotes or the header.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sprintconnect.identity.jose.verify import ALLOWED_ALGORITHMS

REALM = "sprintconnect"
# RFC 6750: error and error_description use %x20-21 / %x23-5B / %x5D-7E; scope tokens the same
# set without the space (scope-token = 1*NQCHAR, separated by spaces).
_UNSAFE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")
_ERROR = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,64}\Z")
_ALG = re.compile(r"[A-Za-z0-9+._-]{1,32}\Z")
_DEFAULT_ALGS = tuple(sorted(ALLOWED_ALGORITHMS))


def _quoted(value: str, *, limit: int = 300) -> str:
    return '"' + _UNSAFE.sub("?", value)[:limit] + '"'


def _challenge(scheme: str, params: list[tuple[str, str]]) -> str:
    return scheme + " " + ", ".join(f"{name}={_quoted(value)}" for name, value in params)


def _error_params(error: str | None, description: str | None) -> list[tuple[str, str]]:
    params: list[tuple[str, str]] = []
    if error is not None:
        if not _ERROR.match(error):
            raise ValueError("an error code is a short token")
        params.append(("error", error))
        if description:
            params.append(("error_description", description))
    return params


def bearer_challenge(
    error: str | None = None, description: str | None = None, *, scope: str | None = None
) -> str:
    """``Bearer realm="sprintconnect"[, error=..., error_description=...][, scope=...]``."""
    params = [("realm", REALM), *_error_params(error, description)]
    if scope:
        params.append(("scope", " ".join(scope.split())))
    return _challenge("Bearer", params)


def dpop_challenge(
    error: str | None = None,
    description: str | None = None,
    *,
    algs: Iterable[str] = _DEFAULT_ALGS,
) -> str:
    """``DPoP realm="sprintconnect", algs="..."[, error=..., error_description=...]``."""
    names = [a for a in algs if _ALG.match(a)]
    params = [("realm", REALM), ("algs", " ".join(names)), *_error_params(error, description)]
    return _challenge("DPoP", params)
