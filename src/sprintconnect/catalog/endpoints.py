"""``GET /api/v1/discovery/servers``: find servers by capability."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from sprintconnect.catalog.repository import Filters
from sprintconnect.catalog.schemas import Kind, Match, SearchPage
from sprintconnect.catalog.service import CatalogSearch
from sprintconnect.catalog.service import Query as SearchQuery
from sprintconnect.db.session import DbSession
from sprintconnect.errors import FieldError, InvalidCursor, ValidationFailed, problem_responses
from sprintconnect.health.schemas import HealthStatus
from sprintconnect.identity.deps import DiscoveryRead
from sprintconnect.kit.pagination import MAX_LIMIT
from sprintconnect.kit.responses import AUTHENTICATED
from sprintconnect.mcp_server.schemas import ENVIRONMENT_PATTERN, TAG_PATTERN

router = APIRouter(prefix="/api/v1/discovery", tags=["Discovery API"], responses=AUTHENTICATED)

_TERM = re.compile(r"^[\w .:/@+-]{1,100}$")
_TAG = re.compile(TAG_PATTERN)


def _match(match: Match | None, fuzzy: bool | None) -> Match:
    """``match`` wins; the deprecated ``fuzzy`` flag maps to ``fuzzy`` or ``exact``."""
    if fuzzy is None:
        return match or "words"
    implied: Match = "fuzzy" if fuzzy else "exact"
    if match is not None and match != implied:
        raise ValidationFailed(
            f"fuzzy={str(fuzzy).lower()} contradicts match={match}; "
            "use match alone (fuzzy is deprecated).",
            errors=[
                FieldError(
                    loc=["query", "fuzzy"], msg=f"conflicts with match={match}", type="conflict"
                )
            ],
        )
    return implied


def _terms(raw: str | None, fuzzy: bool) -> tuple[str, ...]:
    if raw is None:
        return ()
    terms: list[str] = []
    for part in raw.split(","):
        term = part.strip()
        if not term:
            continue
        if not _TERM.match(term):
            raise ValidationFailed(
                f"'{term[:40]}' is not a capability name to search for.",
                loc=("query", "capability"),
            )
        term = term.lower() if fuzzy else term
        if term not in terms:
            terms.append(term)
    if len(terms) > 10:
        raise ValidationFailed("At most 10 capabilities per search.", loc=("query", "capability"))
    return tuple(terms)


def _tags(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    tags = sorted({t.strip() for t in raw.split(",") if t.strip()})
    bad = [t for t in tags if not _TAG.match(t)]
    if bad or len(tags) > 20:
        raise ValidationFailed(
            "tags must be up to 20 comma-separated slugs.", loc=("query", "tags")
        )
    return tuple(tags)


@router.get(
    "/servers",
    summary="Find servers by capability",
    description="`capability=a,b` finds servers that have all of them. `match=words` (the "
    "default) finds names holding the term's words (`get_weather_forecast`, "
    "`getWeatherForecast` and `weather-alerts` all hold `weather`) and descriptions by "
    "English full-text search; `match=exact` finds exact names; `match=fuzzy` also finds "
    "substrings and small typos. Ranked matches say what matched (`matched_on`) and how well "
    "(`score`). Results are what your role, key scopes and organization policies let you "
    "see; `search` says how many were hidden. No match is an empty list.",
    responses=problem_responses(InvalidCursor),
)
async def search_servers(
    request: Request,
    principal: DiscoveryRead,
    session: DbSession,
    capability: Annotated[str | None, Query(max_length=1100)] = None,
    kind: Kind = "tool",
    match: Annotated[
        Match | None,
        Query(description="How a term matches: `exact`, `words` (default) or `fuzzy`."),
    ] = None,
    fuzzy: Annotated[
        bool | None,
        Query(
            deprecated=True,
            description="Deprecated alias, kept for one release: `true` is `match=fuzzy`, "
            "`false` is `match=exact`.",
        ),
    ] = None,
    environment: Annotated[str | None, Query(pattern=ENVIRONMENT_PATTERN)] = None,
    tags: Annotated[str | None, Query(max_length=1300)] = None,
    status: Literal["pending_discovery", "active", "discovery_failed"] | None = None,
    health: Annotated[
        HealthStatus | None,
        Query(
            description="Only servers with this health status. Answers are cached for up "
            "to 60 seconds, so a server whose status just changed may show its old status "
            "(and match the old filter) until then."
        ),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
) -> SearchPage:
    mode = _match(match, fuzzy)
    query = SearchQuery(
        terms=_terms(capability, mode == "fuzzy"),
        kind=kind,
        match=mode,
        filters=Filters(environment=environment, tags=_tags(tags), status=status, health=health),
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
