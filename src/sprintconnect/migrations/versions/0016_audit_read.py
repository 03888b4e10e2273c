"""Audit log reading: indexes for the filters and the free-text search (issue 13).

Lists read newest first: ``ORDER BY occurred_at DESC, seq DESC`` (``seq`` breaks ties), with a
keyset cursor on both. Every index ends in ``(occurred_at, seq)`` after its equality columns,
so a filtered page and a date range are one backward index range scan that stops after a page,
whatever the size of the log:

- ``ix_audit_events_org_time``: no filter, or only ``from``/``to``;
- ``ix_audit_events_org_actor``: ``actor_type`` and ``actor_id``. An ``actor_id`` without a
  type, or a user's id with their keys, is several alternatives: a page reads each one in
  index order and merges them (``audit.repository``), instead of sorting all their entries;
- ``ix_audit_events_org_tag``: an exact ``action`` (``text_pattern_ops``, so that an action
  prefix, ``tag LIKE 'org:server:%'``, is an index range too);
- ``ix_audit_events_org_target``: ``target_id`` (with a ``target_type``, the type filters
  the few rows); ``ix_audit_events_org_target_type``: a ``target_type`` alone;
- ``ix_audit_events_org_failures``: ``outcome=failure``, a partial index over the few failed
  entries (the predicate is ``models.audit.AUDIT_FAILURE_SQL``, copied here);
- ``q``: an id is matched exactly, through the primary key, ``ix_audit_events_org_request``
  (request ids), the target and actor indexes (alternatives, merged as above); words in the details through
  ``ix_audit_events_details_fts``, a GIN full-text index (``simple`` configuration: no
  stemming, no stop words) over the details' strings and numbers. A trigram index over ids and
  details was measured and dropped: at 10 million entries it took over ten minutes to build and
  several gigabytes, for substring matching that ids do not need.

``sc_audit_details_matches`` (SECURITY DEFINER, with a ``definer_*`` SELECT policy for the
owner as ``sc_api_key_lookup`` has) finds the newest entries whose details hold ``q``'s words,
for the organization the caller's transaction is bound to: under the tenant policy the GIN
index cannot serve ``@@``, which is not leakproof.

``sc_platform_audit_page`` (SECURITY DEFINER) lets the application read ``platform_audit_events``
one page at a time, newest first; the application role still has no SELECT on the table. Only
the super-admin route calls it (``GET /api/v1/platform/audit/events``).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28
"""

from __future__ import annotations

from sprintconnect.migrations.helpers import app_role, execute_all

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# The predicate of ``models.audit.AUDIT_FAILURE_SQL``: a revision keeps its own copy, frozen.
FAILURE = "(tag ~ ':(auth_[a-z_]+|[a-z_]*failed)$' OR details @> '{\"outcome\": \"failure\"}')"
DETAILS_FTS = "jsonb_to_tsvector('simple'::regconfig, details, '[\"string\", \"numeric\"]')"
INDEXES = (
    "CREATE INDEX ix_audit_events_org_time ON audit_events (org_id, occurred_at, seq)",
    "CREATE INDEX ix_audit_events_org_actor "
    "ON audit_events (org_id, actor_type, actor_id, occurred_at, seq)",
    "CREATE INDEX ix_audit_events_org_tag "
    "ON audit_events (org_id, tag text_pattern_ops, occurred_at, seq)",
    "CREATE INDEX ix_audit_events_org_target ON audit_events (org_id, target_id, occurred_at, seq)",
    f"CREATE INDEX ix_audit_events_org_failures ON audit_events (org_id, occurred_at, seq) "
    f"WHERE {FAILURE}",
    "CREATE INDEX ix_audit_events_org_target_type "
    "ON audit_events (org_id, target_type, occurred_at, seq)",
    "CREATE INDEX ix_audit_events_org_request "
    "ON audit_events (org_id, request_id, occurred_at, seq)",
    f"CREATE INDEX ix_audit_events_details_fts ON audit_events USING gin (({DETAILS_FTS}))",
)
NAMES = (
    "ix_audit_events_org_time",
    "ix_audit_events_org_actor",
    "ix_audit_events_org_tag",
    "ix_audit_events_org_target",
    "ix_audit_events_org_failures",
    "ix_audit_events_org_target_type",
    "ix_audit_events_org_request",
    "ix_audit_events_details_fts",
)
PLATFORM_PAGE = "sc_platform_audit_page(bigint, integer, text, boolean)"
DETAILS_MATCHES = "sc_audit_details_matches(text, timestamptz, bigint, integer)"
# EXECUTE plans with the query's words, so PostgreSQL picks the GIN index (rare words) or the
# time order (common ones) by them; the organization is the caller's bound tenant, no other.
DETAILS_MATCHES_BODY = f"""
CREATE FUNCTION sc_audit_details_matches(
  p_query text, p_before_at timestamptz, p_before_seq bigint, p_limit integer
)
RETURNS TABLE (id uuid, occurred_at timestamptz, seq bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $fn$
BEGIN
  RETURN QUERY EXECUTE $q$
    SELECT e.id, e.occurred_at, e.seq FROM audit_events e
    WHERE e.org_id = nullif(current_setting('app.org_id', true), '')::uuid
      AND {DETAILS_FTS} @@ websearch_to_tsquery('simple'::regconfig, $1)
      AND ($2 IS NULL OR (e.occurred_at, e.seq) < ($2, $3))
    ORDER BY e.occurred_at DESC, e.seq DESC
    LIMIT $4
  $q$ USING p_query, p_before_at, p_before_seq, least(greatest(p_limit, 1), 1000);
END
$fn$
"""


def upgrade() -> None:
    role = app_role()
    execute_all(
        [
            *INDEXES,
            # Newest first, entries before ``p_before_seq`` (null: from the newest), at most
            # ``p_limit``; ``p_tag`` (null: any) narrows to one action, or to a prefix of
            # actions with ``p_prefix``.
            """
            CREATE FUNCTION sc_platform_audit_page(
              p_before_seq bigint, p_limit integer, p_tag text, p_prefix boolean
            )
            RETURNS SETOF platform_audit_events
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
            AS $$
              SELECT * FROM platform_audit_events
              WHERE (p_before_seq IS NULL OR seq < p_before_seq)
                AND (p_tag IS NULL OR tag = p_tag OR (p_prefix AND starts_with(tag, p_tag)))
              ORDER BY seq DESC
              LIMIT least(greatest(p_limit, 1), 1000)
            $$
            """,
            f"REVOKE ALL ON FUNCTION {PLATFORM_PAGE} FROM PUBLIC",
            f"GRANT EXECUTE ON FUNCTION {PLATFORM_PAGE} TO {role}",
            # Under the tenant policy an index serves only leakproof operators, and ``@@`` is
            # not one: a details search would compute every entry's words. The owner reads
            # through ``sc_audit_details_matches`` instead, with a policy of its own.
            "CREATE POLICY definer_audit_search ON audit_events FOR SELECT "
            "TO CURRENT_USER USING (true)",
            DETAILS_MATCHES_BODY,
            f"REVOKE ALL ON FUNCTION {DETAILS_MATCHES} FROM PUBLIC",
            f"GRANT EXECUTE ON FUNCTION {DETAILS_MATCHES} TO {role}",
        ]
    )


def downgrade() -> None:
    execute_all(
        [
            f"DROP FUNCTION IF EXISTS {PLATFORM_PAGE}",
            f"DROP FUNCTION IF EXISTS {DETAILS_MATCHES}",
            "DROP POLICY IF EXISTS definer_audit_search ON audit_events",
            *(f"DROP INDEX IF EXISTS {name}" for name in NAMES),
        ]
    )
