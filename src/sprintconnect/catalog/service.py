"""Capability search: SQL decides tenancy, filters and matches; role rules run in code; the
PDP sees only the matches (in one batch), and only when the organization has policies."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.authz.decision import PolicyDenied, Resource
from sprintconnect.authz.enforcement import carry_out, enforce, redactions_for
from sprintconnect.authz.obligations import NONE, Obligations, redact
from sprintconnect.authz.service import Authorizer, request_for
from sprintconnect.catalog.repository import CatalogRepository, Filters, Hit
from sprintconnect.catalog.schemas import (
    Health,
    Match,
    MatchedCapability,
    SearchMeta,
    SearchPage,
    SearchResult,
)
from sprintconnect.errors import InvalidCursor
from sprintconnect.identity.principal import Principal
from sprintconnect.kit.cache import JsonCache
from sprintconnect.mcp_server.service import server_resource
from sprintconnect.mcp_server.views import server_out
from sprintconnect.models import CapabilityItem, McpServer

FUZZY_THRESHOLD = 0.5
MAX_HITS = 50_000
MAX_ROWS = 50_000
MAX_CAPABILITIES_PER_TERM = 10
CACHE_TTL_SECONDS = 60


def search_health(server: McpServer) -> Health:
    """What a result shows of its server's health (the health row is loaded with the server)."""
    row = server.health
    if row is None:
        return Health()
    return Health(
        status=row.status,
        last_check_at=row.last_check_at,
        response_ms=row.last_response_ms,
        last_checked_at=row.last_check_at,
    )


@dataclass(frozen=True)
class Query:
    terms: tuple[str, ...]
    kind: str | None
    match: Match
    filters: Filters
    health: str | None
    limit: int
    cursor: str | None

    def normalized(self) -> dict[str, Any]:
        return {"capabilities": list(self.terms), "kind": self.kind, "match": self.match}

    def filters_applied(self) -> dict[str, Any]:
        return {
            "environment": self.filters.environment,
            "tags": list(self.filters.tags),
            "status": self.filters.status,
            "health": self.health,
        }


@dataclass
class Candidate:
    server: McpServer
    hits: dict[int, list[Hit]] = field(default_factory=dict)

    @property
    def score(self) -> float:
        if not self.hits:
            return 1.0
        return round(sum(max(h.score for h in hs) for hs in self.hits.values()) / len(self.hits), 4)


def _best_first(hit: Hit) -> tuple[float, str, str]:
    """Highest score first; equal scores by name, so every database orders them alike."""
    return (-hit.score, hit.name, str(hit.item_id))


def _capability_resource(item: CapabilityItem, server: McpServer) -> Resource:
    return Resource(
        "Capability",
        str(item.id),
        {
            "name": item.name,
            "kind": item.kind,
            "server": server.name,
            "environment": server.environment,
        },
    )


class CatalogSearch:
    def __init__(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        authorizer: Authorizer,
        cache: JsonCache,
    ) -> None:
        self.session = session
        self.principal = principal
        self.org_id = principal.org_id
        self.authorizer = authorizer
        self.cache = cache
        self.repo = CatalogRepository(session)
        # What this search's decisions oblige per request, kept with the cached answer so
        # that a cache hit throttles and audits like the search that filled it.
        self.obliged: Obligations = NONE

    def _policies_apply(self) -> bool:
        """Whether anything beyond role rules can hide a match: organization policies, or an
        external PDP (which sees every decision)."""
        return bool(self.principal.policy_version) or not self.authorizer.role_rules_suffice

    def _cache_key(self, query: Query, generation: int) -> str:
        principal = self.principal
        parts: dict[str, Any] = {
            "gen": generation,
            "policy": principal.policy_version,
            "perms": sorted(principal.permissions),
            "roles": sorted(principal.roles),
            "query": query.normalized(),
            "filters": query.filters_applied(),
            "limit": query.limit,
            "cursor": query.cursor,
        }
        if self._policies_apply():
            # Policies may name a principal or depend on the time of day.
            parts["subject"] = [str(principal.user_id), str(principal.api_key_id)]
            parts["time"] = [
                principal.time_context.get("minute_of_day"),
                principal.time_context.get("day_of_week"),
            ]
        digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
        return f"search:{self.org_id}:{digest}"

    async def search(self, query: Query) -> SearchPage:
        started = time.perf_counter()
        generation = await self.repo.generation(self.org_id)
        key = self._cache_key(query, generation)
        cached = await self.cache.get(key)
        if cached is not None:
            await carry_out(
                self.session,
                self.principal,
                "discovery:read",
                Obligations.from_request_part(cached.get("obligations")),
                throttles=self.authorizer.throttles,
            )
            page = SearchPage.model_validate(cached)
            page.search.cached = True
            page.search.took_ms = round((time.perf_counter() - started) * 1000, 2)
            return page
        engine, candidates = await self._candidates(query)
        visible, removed = await self._apply_policy(candidates)
        if query.match != "exact":
            visible.sort(key=lambda c: (-c.score, c.server.name.lower(), str(c.server.id)))
        else:
            visible.sort(key=lambda c: (c.server.name.lower(), str(c.server.id)))
        offset = self._offset(query)
        window = visible[offset : offset + query.limit]
        items = await self._results(window, query)
        more = offset + query.limit < len(visible)
        page = SearchPage(
            items=items,
            next_cursor=self._cursor(query, offset + query.limit) if more else None,
            search=SearchMeta(
                query=query.normalized(),
                filters=query.filters_applied(),
                total=len(visible),
                removed_by_policy=removed,
                took_ms=round((time.perf_counter() - started) * 1000, 2),
                cached=False,
                fuzzy_engine=engine,
            ),
        )
        stored = {**page.model_dump(mode="json"), "obligations": self.obliged.per_request()}
        await self.cache.set(key, stored, CACHE_TTL_SECONDS)
        return page

    async def _candidates(self, query: Query) -> tuple[Any, list[Candidate]]:
        if not query.terms:
            ids = await self.repo.browse(self.org_id, query.filters, max_rows=MAX_ROWS)
            servers = await self.repo.servers(self.org_id, ids)
            return "none", [Candidate(servers[i]) for i in ids if i in servers]
        engine = "none"
        if query.match == "exact":
            hits = await self.repo.exact(self.org_id, query.terms, query.kind, query.filters)
        elif query.match == "words":
            hits = await self.repo.words(
                self.org_id, query.terms, query.kind, query.filters, max_hits=MAX_HITS
            )
        else:
            engine = "trigram"
            hits = await self.repo.fuzzy(
                self.org_id,
                query.terms,
                query.kind,
                query.filters,
                threshold=FUZZY_THRESHOLD,
                max_hits=MAX_HITS,
            )
        grouped: dict[UUID, dict[int, list[Hit]]] = defaultdict(lambda: defaultdict(list))
        for hit in hits:
            grouped[hit.server_id][hit.term].append(hit)
        # A server qualifies when every term found at least one of its capabilities.
        qualified = {s: h for s, h in grouped.items() if len(h) == len(query.terms)}
        servers = await self.repo.servers(self.org_id, list(qualified))
        return engine, [
            Candidate(servers[s], {t: sorted(hs, key=_best_first) for t, hs in h.items()})
            for s, h in qualified.items()
            if s in servers
        ]

    async def _apply_policy(self, candidates: list[Candidate]) -> tuple[list[Candidate], int]:
        """Role rules in code, then the PDP on the matches only; a PDP failure fails all."""
        production = "servers:production" in self.principal.permissions
        allowed = [c for c in candidates if production or c.server.environment != "production"]
        if not self._policies_apply() or not allowed:
            return allowed, len(candidates) - len(allowed)
        item_ids = [h.item_id for c in allowed for hs in c.hits.values() for h in hs]
        items = await self.repo.items(self.org_id, item_ids)
        requests = [
            request_for(self.principal, "discovery:read", server_resource(c.server))
            for c in allowed
        ]
        item_order: list[UUID] = []
        for c in allowed:
            for hs in c.hits.values():
                for h in hs:
                    if h.item_id in items and h.item_id not in item_order:
                        item_order.append(h.item_id)
                        requests.append(
                            request_for(
                                self.principal,
                                "discovery:read",
                                _capability_resource(items[h.item_id], c.server),
                            )
                        )
        text = await self.authorizer.policy_text(
            self.session, self.org_id, self.principal.policy_version
        )
        decisions = await self.authorizer.decide_many(requests, text)
        failed = next((d for d in decisions if d.failed), None)
        if failed is not None:
            raise PolicyDenied(
                failed,
                action="discovery:read",
                hint="Policy evaluation failed, so no results are returned.",
            )
        # Redactions per server and capability for the answer; throttle and audit now.
        self.obliged = await enforce(
            self.session,
            self.principal,
            "discovery:read",
            [(r.resource, d) for r, d in zip(requests, decisions, strict=True)],
            throttles=self.authorizer.throttles,
        )
        server_ok = {c.server.id: d.allowed for c, d in zip(allowed, decisions, strict=False)}
        item_ok = dict(zip(item_order, (d.allowed for d in decisions[len(allowed) :]), strict=True))
        visible = []
        for c in allowed:
            if not server_ok[c.server.id]:
                continue
            kept = {t: [h for h in hs if item_ok.get(h.item_id, False)] for t, hs in c.hits.items()}
            if all(kept.values()):
                visible.append(Candidate(c.server, kept))
        return visible, len(candidates) - len(visible)

    async def _results(self, window: list[Candidate], query: Query) -> list[SearchResult]:
        wanted = [
            h.item_id
            for c in window
            for hs in c.hits.values()
            for h in hs[:MAX_CAPABILITIES_PER_TERM]
        ]
        items = await self.repo.items(self.org_id, wanted)
        versions = {c.server.id: c.server.current_snapshot_version for c in window}
        results = []
        for c in window:
            matched = []
            for term, hs in sorted(c.hits.items()):
                for h in hs[:MAX_CAPABILITIES_PER_TERM]:
                    item = items.get(h.item_id)
                    if item is None:
                        continue
                    matched.append(
                        redact(
                            MatchedCapability(
                                kind=item.kind,
                                name=item.name,
                                title=item.title,
                                description=item.description,
                                definition=item.body,
                                snapshot_version=versions[c.server.id] or 0,
                                score=h.score,
                                matched_term=query.terms[term],
                                matched_on=h.matched_on,
                            ),
                            redactions_for("Capability", item.id),
                        )
                    )
            results.append(
                SearchResult(
                    server=server_out(c.server),
                    score=c.score,
                    capabilities=matched,
                    health=search_health(c.server),
                )
            )
        return results

    def _digest(self, query: Query) -> str:
        raw = json.dumps([query.normalized(), query.filters_applied(), query.limit], sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def _cursor(self, query: Query, offset: int) -> str:
        raw = json.dumps({"o": offset, "d": self._digest(query)}).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def _offset(self, query: Query) -> int:
        if not query.cursor:
            return 0
        try:
            padded = query.cursor + "=" * (-len(query.cursor) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()))
            offset, digest = int(data["o"]), str(data["d"])
        # OverflowError: ``int`` of an infinite float (``{"o": 1e999}``); RecursionError:
        # JSON nested deeper than Python's recursion limit.
        except (ValueError, KeyError, TypeError, OverflowError, RecursionError) as exc:
            raise InvalidCursor() from exc
        if digest != self._digest(query) or offset < 0:
            raise InvalidCursor()
        return offset
