"""``GET /api/v1/discovery/servers``: find servers by capability."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from sprintconnect.catalog.repository import Filters
from sprintconnect.catalog.schemas import Kind, SearchPage
from sprintconnect.catalog.service import CatalogSearch
from sprintconnect.catalog.service import Query as SearchQuery
from sprintconnect.db.session import DbSession
from sprintconnect.errors import InvalidCursor, ValidationFailed, problem_responses
from sprintconnect.identity.deps import DiscoveryRead
from sprintconnect.kit.pagination import MAX_LIMIT
from sprintconnect.kit.responses import AUTHENTICATED
from sprintconnect.mcp_server.schemas import ENVIRONMENT_PATTERN, TAG_PATTERN

router = APIRouter(prefix="/api/v1/discovery", tags=["Discovery API"], responses=AUTHENTICATED)

_TERM = re.compile(r"^[\w .:/@+-]{1,100}$")
_TAG = re.compile(TAG_PATTERN)


def _terms(raw: str | None, fuzzy: bool) -> tuple[str, ...]:
    if raw is None:
        return ()
    terms: list[str] = []
    for part in raw.split(","):
        term = part.strip()
        if not term:
            continue
        if not _TERM.match(term):
            raise ValidationFailed(f"'{term[:40]}' is not a capability name to search for.")
        term = term.lower() if fuzzy else term
        if term not in terms:
            terms.append(term)
    if len(terms) > 10:
        raise ValidationFailed("At most 10 capabilities per search.")
    return tuple(terms)


def _tags(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    tags = sorted({t.strip() for t in raw.split(",") if t.strip()})
    bad = [t for t in tags if not _TAG.match(t)]
    if bad or len(tags) > 20:
        raise ValidationFailed("tags must be up to 20 comma-separated slugs.")
    return tuple(tags)


@router.get(
    "/servers",
    summary="Find servers by capability",
    description="`capability=a,b` finds servers that have all of them (exact names, or with "
    "`fuzzy=true` by words, substrings and small typos, ranked). Results are what your role, "
    "key scopes and organization policies let you see; `search` says how many were hidden. "
    "No match is an empty list.",
    responses=problem_responses(InvalidCursor),
)
async def search_servers(
    request: Request,
    principal: DiscoveryRead,
    session: DbSession,
    capability: Annotated[str | None, Query(max_length=1100)] = None,
    kind: Kind = "tool",
    fuzzy: bool = False,
    environment: Annotated[str | None, Query(pattern=ENVIRONMENT_PATTERN)] = None,
    tags: Annotated[str | None, Query(max_length=1300)] = None,
    status: Literal["pending_discovery", "active", "discovery_failed"] | None = None,
    health: Literal["healthy", "unhealthy", "unknown"] | None = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
) -> SearchPage:
    query = SearchQuery(
        terms=_terms(capability, fuzzy),
        kind=kind,
        fuzzy=fuzzy,
        filters=Filters(environment=environment, tags=_tags(tags), status=status),
        health=health,
        limit=limit,
        cursor=cursor,
    )
    search = CatalogSearch(
        session,
        principal,
        authorizer=request.app.state.authorizer,
        cache=request.app.state.search_cache,
    )
    return await search.search(query)
