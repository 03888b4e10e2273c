"""SQL for the catalog: keeping it current, and the exact, words and fuzzy matches.

Every statement starts from one organization's rows (``org_id`` leads every index), so a
search reads that tenant's servers only, whatever the size of the whole platform.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.models import CapabilityItem, McpServer, Organization, ServerCapability


@dataclass(frozen=True)
class Filters:
    environment: str | None = None
    tags: tuple[str, ...] = ()
    status: str | None = None
    health: str | None = None


@dataclass(frozen=True)
class Hit:
    server_id: UUID
    item_id: UUID
    term: int
    score: float
    matched_on: str
    name: str


# A server's health status (``unknown`` until its first check), read from its health row.
_HEALTH = (
    "coalesce((SELECT h.status FROM server_health h "
    "WHERE h.server_id = s.id AND h.org_id = s.org_id), 'unknown')"
)

_SERVER_FILTERS = f"""
    AND (CAST(:environment AS text) IS NULL OR s.environment = :environment)
    AND (s.tags @> CAST(:tags AS text[]))
    AND (CAST(:status AS text) IS NULL OR s.status = :status)
    AND (CAST(:kind AS text) IS NULL OR c.kind = :kind)
    AND (CAST(:health AS text) IS NULL OR {_HEALTH} = :health)
"""

_EXACT = text(
    f"""
    SELECT c.server_id, c.item_id, array_position(CAST(:terms AS text[]), c.name) - 1 AS term,
           1.0 AS score, 'name' AS matched_on, c.name
    FROM server_capabilities c JOIN mcp_servers s ON s.id = c.server_id AND s.org_id = c.org_id
    WHERE c.org_id = :org AND c.name = ANY(CAST(:terms AS text[])) {_SERVER_FILTERS}
    """
)

# Words: a name matches when it holds every word of the term (``sc_words`` splits both the
# same way); it scores 1.0 when it is nothing but those words, down to 0.6 the more other
# words it has. A description matches by English full-text search (stemmed: "forecasts"
# finds "forecast") and scores 0.3 to 0.5 by its rank, so name matches always come first.
# Both tests read stored columns (``name_words``, ``description_vector``, GIN-indexed). The
# terms are MATERIALIZED: inlined, PostgreSQL split each term and built its tsquery again for
# every row of the organization (twice the time of a fuzzy search in the benchmark).
_WORDS = text(
    f"""
    WITH terms AS MATERIALIZED (
        SELECT ord - 1 AS term, w.words,
               plainto_tsquery('english'::regconfig, array_to_string(w.words, ' ')) AS q
        FROM unnest(CAST(:terms AS text[])) WITH ORDINALITY AS u(t, ord)
        CROSS JOIN LATERAL (SELECT sc_words(u.t) AS words) AS w
        WHERE cardinality(w.words) > 0
    ), scored AS (
        SELECT c.server_id, c.item_id, c.name, terms.term,
               CASE WHEN c.name_words @> terms.words
                    THEN 0.6 + 0.4 * least(1.0, cardinality(terms.words)::numeric
                                              / greatest(cardinality(c.name_words), 1))
                    ELSE 0.3 + 0.2 * ts_rank_cd(c.description_vector, terms.q, 32)
               END AS score,
               CASE WHEN c.name_words @> terms.words THEN 'name' ELSE 'description' END
                   AS matched_on
        FROM terms
        JOIN server_capabilities c
          ON c.name_words @> terms.words OR c.description_vector @@ terms.q
        JOIN mcp_servers s ON s.id = c.server_id AND s.org_id = c.org_id
        WHERE c.org_id = :org {_SERVER_FILTERS}
    )
    SELECT server_id, item_id, name, term, round(score::numeric, 4) AS score, matched_on
    FROM scored
    ORDER BY score DESC
    LIMIT :max_hits
    """
)

# Fuzzy: a term matches a name exactly (1.0), as a substring (0.9), or by trigram word
# similarity (typos); a description that contains it counts 0.6. Similarity runs on names
# only: on descriptions it doubled the cost of a search for little gain (measured on 2,000
# rows/org). Word similarity is the costly part, so a name skips it when it cannot reach the
# threshold (see ``similarity_prefilter``): its similarity then counts 0, which changes no
# answer, since a name score under the threshold neither matches nor beats a description's 0.6.
# The terms are MATERIALIZED so that their patterns are split once, not once per row.
_FUZZY = text(
    f"""
    WITH terms AS MATERIALIZED (
        SELECT u.t, u.ord - 1 AS term, string_to_array(u.patterns, ' ') AS patterns
        FROM unnest(CAST(:terms AS text[]), CAST(:patterns AS text[])) WITH ORDINALITY
            AS u(t, patterns, ord)
    ), scored AS (
        SELECT c.server_id, c.item_id, c.name, terms.term,
               greatest(
                   CASE WHEN lower(c.name) = terms.t THEN 1.0
                        WHEN strpos(lower(c.name), terms.t) > 0 THEN 0.9
                        ELSE 0 END,
                   CASE WHEN terms.patterns IS NULL
                          OR octet_length(c.name) <> char_length(c.name)
                          OR lower(c.name) LIKE ANY (terms.patterns)
                        THEN word_similarity(terms.t, lower(c.name))
                        ELSE 0 END
               ) AS name_score,
               CASE WHEN strpos(lower(coalesce(c.description, '')), terms.t) > 0
                    THEN 0.6 ELSE 0 END AS description_score
        FROM server_capabilities c
        JOIN mcp_servers s ON s.id = c.server_id AND s.org_id = c.org_id
        CROSS JOIN terms
        WHERE c.org_id = :org {_SERVER_FILTERS}
    )
    SELECT server_id, item_id, name, term,
           round(greatest(name_score, description_score)::numeric, 4) AS score,
           CASE WHEN name_score >= description_score THEN 'name' ELSE 'description' END
               AS matched_on
    FROM scored WHERE greatest(name_score, description_score) >= :threshold
    ORDER BY score DESC
    LIMIT :max_hits
    """
)

_BROWSE = text(
    f"""
    SELECT s.id FROM mcp_servers s
    WHERE s.org_id = :org
      AND (CAST(:environment AS text) IS NULL OR s.environment = :environment)
      AND (s.tags @> CAST(:tags AS text[]))
      AND (CAST(:status AS text) IS NULL OR s.status = :status)
      AND (CAST(:health AS text) IS NULL OR {_HEALTH} = :health)
    ORDER BY lower(s.name), s.id
    LIMIT :max_rows
    """
)


_PLAIN_WORD = re.compile(r"[a-z0-9]+")
# pg_trgm pads a word with two spaces in front and one behind: "  w", " we" and "er " for
# "weather". A name can share at most these three trigrams of a term without containing one of
# the term's inner trigrams ("wea", "eat", ...) as a substring.
_PADDED_TRIGRAMS = 3


def similarity_prefilter(term: str, threshold: float) -> str | None:
    """LIKE patterns (space-separated) of which a name must match one for
    ``word_similarity(term, name)`` to reach ``threshold``; None when there is no such
    shortcut for this term (every name is then scored).

    Word similarity is at most ``shared / unique`` over the term's unique trigrams, so a name
    that holds none of the term's inner trigrams scores at most ``3 / unique``. For a term of
    one plain lower-case ASCII word with enough trigrams, that is below the threshold, so only
    names that contain an inner trigram need scoring. Other terms (several words, other
    characters, short words) are always scored. Names with multibyte characters are always
    scored too (``octet_length <> char_length`` in the SQL): pg_trgm hashes such trigrams, and a
    hash might equal an ASCII trigram.
    """
    if not _PLAIN_WORD.fullmatch(term):
        return None
    padded = f"  {term} "
    unique = {padded[i : i + 3] for i in range(len(padded) - 2)}
    if _PADDED_TRIGRAMS / len(unique) >= threshold:
        return None
    inner = sorted({term[i : i + 3] for i in range(len(term) - 2)})
    return " ".join(f"%{gram}%" for gram in inner)


def _params(org_id: UUID, filters: Filters, kind: str | None) -> dict[str, Any]:
    return {
        "org": org_id,
        "environment": filters.environment,
        "tags": list(filters.tags),
        "status": filters.status,
        "health": filters.health,
        "kind": kind,
    }


def _hits(rows: Any) -> list[Hit]:
    return [
        Hit(r.server_id, r.item_id, int(r.term), float(r.score), str(r.matched_on), str(r.name))
        for r in rows
    ]


class CatalogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def generation(self, org_id: UUID) -> int:
        value = await self.session.scalar(
            select(Organization.catalog_generation).where(Organization.id == org_id)
        )
        return int(value or 0)

    async def bump(self, org_id: UUID) -> None:
        """Mark everything cached about this organization's catalog as stale."""
        await self.session.execute(
            update(Organization)
            .where(Organization.id == org_id)
            .values(catalog_generation=Organization.catalog_generation + 1)
        )

    async def replace_server(
        self, org_id: UUID, server_id: UUID, version: int, snapshot_id: UUID
    ) -> None:
        """The server's catalog entries become exactly the items of this snapshot."""
        await self.session.execute(
            delete(ServerCapability).where(
                ServerCapability.org_id == org_id, ServerCapability.server_id == server_id
            )
        )
        await self.session.execute(
            insert(ServerCapability).from_select(
                [
                    "id",
                    "org_id",
                    "server_id",
                    "item_id",
                    "snapshot_version",
                    "kind",
                    "name",
                    "description",
                ],
                select(
                    text("gen_random_uuid()"),
                    CapabilityItem.org_id,
                    CapabilityItem.server_id,
                    CapabilityItem.id,
                    text(str(int(version))),
                    CapabilityItem.kind,
                    CapabilityItem.name,
                    CapabilityItem.description,
                ).where(CapabilityItem.org_id == org_id, CapabilityItem.snapshot_id == snapshot_id),
            )
        )
        await self.bump(org_id)

    async def exact(
        self, org_id: UUID, terms: Sequence[str], kind: str | None, filters: Filters
    ) -> list[Hit]:
        rows = await self.session.execute(
            _EXACT, {**_params(org_id, filters, kind), "terms": list(terms)}
        )
        return _hits(rows)

    async def words(
        self,
        org_id: UUID,
        terms: Sequence[str],
        kind: str | None,
        filters: Filters,
        *,
        max_hits: int,
    ) -> list[Hit]:
        rows = await self.session.execute(
            _WORDS,
            {**_params(org_id, filters, kind), "terms": list(terms), "max_hits": max_hits},
        )
        return _hits(rows)

    async def fuzzy(
        self,
        org_id: UUID,
        terms: Sequence[str],
        kind: str | None,
        filters: Filters,
        *,
        threshold: float,
        max_hits: int,
    ) -> list[Hit]:
        rows = await self.session.execute(
            _FUZZY,
            {
                **_params(org_id, filters, kind),
                "terms": list(terms),
                "patterns": [similarity_prefilter(t, threshold) for t in terms],
                "threshold": threshold,
                "max_hits": max_hits,
            },
        )
        return _hits(rows)

    async def browse(self, org_id: UUID, filters: Filters, *, max_rows: int) -> list[UUID]:
        result = await self.session.execute(
            _BROWSE, {**_params(org_id, filters, None), "max_rows": max_rows}
        )
        return [r.id for r in result]

    async def servers(self, org_id: UUID, ids: Sequence[UUID]) -> dict[UUID, McpServer]:
        if not ids:
            return {}
        stmt = select(McpServer).where(McpServer.org_id == org_id, McpServer.id.in_(ids))
        return {s.id: s for s in (await self.session.scalars(stmt)).all()}

    async def items(self, org_id: UUID, ids: Sequence[UUID]) -> dict[UUID, CapabilityItem]:
        if not ids:
            return {}
        stmt = select(CapabilityItem).where(
            CapabilityItem.org_id == org_id, CapabilityItem.id.in_(ids)
        )
        return {i.id: i for i in (await self.session.scalars(stmt)).all()}
