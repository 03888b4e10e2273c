"""The capability-search dataset: organizations, servers and their tools, bulk-loaded with COPY.

Full size (the defaults): 1,000 organizations, 100 servers each (100,000), 20 tools per server
(2,000,000 ``capability_items`` and as many ``server_capabilities``). Every organization has one
admin user (membership, ``admin`` role assignment) and one API key with the ``admin`` scope that
the user created. Keys are derived from the organization id and a fixed benchmark seed, so a kept
database can be measured again without storing plaintext keys; their HMAC digests are computed
with the same ``KeyRing`` and secret that :func:`bench_settings` gives the app.

Servers are registered over time across tenants (the rows of one organization are interleaved
with everyone else's, as a long-lived platform stores them). Each server has a business domain
(weather, calendar, email, help desk, code host, ...) and, for 60% of them, a related second one
(email + calendar, help desk + chat, ...); its tools are ``verb_noun`` names of those domains
(``get_current_weather``, ``list_calendar_events``, ``send_email``, ``create_ticket``,
``search_documents``) with one- or two-sentence descriptions and small input schemas. Names
repeat across servers and organizations, as real MCP servers share tools. Each server has its
health row (status ``unknown``, as before a first check, due within its interval), which the
app reads with every server it shows.

The scratch database is created on PostgreSQL at 127.0.0.1:5432 (superuser ``postgres``), or
in an embedded server when that does not answer, migrated with ``sprintconnect.db.migrate``,
then loaded as the owner: secondary indexes are dropped and rebuilt after the load, and
foreign-key triggers are off for the loading sessions (``session_replication_role = replica``;
the generator writes consistent rows). Finally ``VACUUM (ANALYZE)``, so autovacuum does not
start on the fresh rows in the middle of a measurement.

Build it alone: ``python -m benchmarks.search_dataset [--keep] [--orgs N ...]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import random
import re
import socket
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from sprintconnect.api_key.service import HMAC_PURPOSE, PREFIX_ALPHABET
from sprintconnect.config import Settings
from sprintconnect.discovery.snapshot import digest
from sprintconnect.kit.secrets import KeyRing

# Fixed so that a kept database and a later run agree on every key digest. Not a real secret.
BENCH_SECRET = "sprintconnect-search-benchmark-master-secret-v1"  # noqa: S105
KEY_SEED = b"sprintconnect-search-benchmark/api-keys/v1"
MARKER = "sprintconnect search benchmark"
LOCAL_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PROTOCOL_VERSION = "2025-06-18"

ENVIRONMENTS = ("development", "staging", "production")
ENVIRONMENT_WEIGHTS = (0.3, 0.3, 0.4)
TAGS = (
    "internal",
    "public",
    "beta",
    "critical",
    "pci",
    "hipaa",
    "gdpr",
    "eu",
    "us",
    "experimental",
)
TAG_COUNT_WEIGHTS = (0.2, 0.3, 0.25, 0.15, 0.1)  # 0..4 tags
SECONDARY_SHARE = 0.6
TIME_ZONES = ("UTC", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "Asia/Tokyo")


# -- vocabulary --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Domain:
    key: str
    area: str
    stems: tuple[str, ...]  # of server names
    weight: float  # how common its servers are
    related: tuple[str, ...]  # domains a server of this one may add
    nouns: tuple[str, ...]  # "singular/plural: verb verb ..." (no plural: the same word)


PLURAL_VERBS = frozenset(
    {"list", "search", "export", "count", "query", "find", "subscribe_to", "tail", "compare"}
    | {"import", "track", "extract"}
)

# key | area | server name stems | weight | related domains, then one noun a line with its verbs
DOMAIN_SPEC = """
weather | the weather service | weather forecast meteo climate | 1.0 | maps travel
    current_weather: get
    weather_forecast/weather_forecasts: get list export
    hourly_forecast/hourly_forecasts: get list
    weather_alert/weather_alerts: get list search subscribe_to
    air_quality: get
    weather_station/weather_stations: get list search
    historical_weather: get export
    uv_index: get
    precipitation_map/precipitation_maps: get list
    pollen_count/pollen_counts: get
    sunrise_sunset: get
calendar | the calendar | calendar scheduler meetings agenda | 2.0 | email project hr
    calendar_event/calendar_events: get list create update delete search cancel
    calendar/calendars: get list create share
    meeting_room/meeting_rooms: list book search
    free_busy: get
    attendee/attendees: list add remove
    reminder/reminders: create list delete
    meeting_time/meeting_times: find
email | the mailbox | mail email inbox mailer | 2.0 | calendar crm documents
    email/emails: send get list search delete archive forward reply_to
    email_thread/email_threads: get list summarize
    draft/drafts: create list send update delete
    attachment/attachments: get list download
    mailbox_label/mailbox_labels: list create
helpdesk | the help desk | helpdesk support tickets servicedesk | 1.5 | chat crm identity
    ticket/tickets: create get list update search assign close escalate reopen count
    ticket_comment/ticket_comments: add list
    sla_policy/sla_policies: get list
    support_queue/support_queues: list get
    canned_response/canned_responses: list create
    csat_score/csat_scores: get list
documents | the document store | docs drive documents wiki | 3.0 | notes storage email
    document/documents: search get list create update delete share export summarize
    folder/folders: list create get move
    file/files: upload download get list
    document_revision/document_revisions: list get restore
    document_permission/document_permissions: list update
crm | the CRM | crm sales customers accounts | 1.5 | email billing helpdesk
    contact/contacts: get list create update delete search merge
    account/accounts: get list create update search
    lead/leads: list create qualify convert assign
    opportunity/opportunities: get list create update
    sales_note/sales_notes: add list
billing | billing | billing invoicing payments subscriptions | 1.2 | shop crm finance
    invoice/invoices: create get list send void search
    payment/payments: get list refund capture
    subscription/subscriptions: create get list cancel update pause
    customer_balance: get
    coupon/coupons: create list
    tax_rate/tax_rates: list get
code | the code host | git repos code scm forge | 3.0 | devops project chat
    repository/repositories: get list create search fork archive
    pull_request/pull_requests: create get list merge review comment_on close
    issue/issues: create get list update close search comment_on
    branch/branches: list create delete
    commit/commits: get list
    release/releases: create list
    file_contents: get update
chat | team chat | chat messaging teamchat chatops | 3.0 | helpdesk monitoring code
    message/messages: send get list search delete update pin
    channel/channels: create list get archive join
    thread/threads: get list reply_to
    reaction/reactions: add remove list
    user_status/user_statuses: get set
    direct_message/direct_messages: send list
database | the database | postgres sql warehouse db | 2.0 | analytics storage
    sql_query/sql_queries: run explain
    table/tables: list describe create drop
    schema/schemas: list get
    index/indexes: list create drop
    view/views: list create
    migration/migrations: list run rollback
    row/rows: insert update delete query
    database/databases: list
storage | object storage | storage s3 blob files cdn | 1.5 | documents database devops
    bucket/buckets: list create delete get
    object/objects: upload download get list delete copy move
    signed_url/signed_urls: create
    lifecycle_rule/lifecycle_rules: list create delete
    bucket_policy/bucket_policies: get update
    object_version/object_versions: list restore
    multipart_upload/multipart_uploads: create list
monitoring | monitoring | monitoring observability metrics oncall | 2.0 | chat devops helpdesk
    alert/alerts: list get acknowledge resolve create silence
    metric/metrics: query list get
    incident/incidents: create get list update resolve
    dashboard/dashboards: list get create
    log/logs: search tail
    on_call_schedule/on_call_schedules: get list
hr | the HR system | hr people payroll hris | 0.8 | calendar identity
    employee/employees: get list search create update
    leave_request/leave_requests: create get list approve reject
    payslip/payslips: get list
    performance_review/performance_reviews: create get list submit
    job_opening/job_openings: list create get close
    org_chart: get
analytics | product analytics | analytics bi insights reporting | 1.2 | database shop
    report/reports: run get list create export schedule
    dashboard/dashboards: get list create
    metric/metrics: get list query
    segment/segments: create list get
    funnel/funnels: get create
    cohort/cohorts: get list
    event/events: track count
maps | maps and places | maps geo places routing location | 1.0 | weather shipping travel
    directions: get
    place/places: search get
    address/addresses: geocode reverse_geocode validate autocomplete
    distance_matrix: get
    route/routes: calculate optimize
    nearby_place/nearby_places: find
    travel_time/travel_times: get estimate
    timezone: get
    elevation: get
    static_map/static_maps: create get
    place_photo/place_photos: get list
    isochrone: get
translation | translation | translate i18n localization lingo | 0.7 | documents websearch
    text: translate
    language/languages: detect list
    document/documents: translate
    glossary/glossaries: create get list delete update
    translation_memory/translation_memories: get list search
    locale_string/locale_strings: list update create export import
    translation_job/translation_jobs: create get list cancel
websearch | the web | search web browse crawler fetch | 2.0 | notes translation
    web: search
    news: search
    image/images: search
    url: fetch
    web_page/web_pages: fetch summarize screenshot
    link/links: extract
    sitemap: get
    site/sites: crawl
    academic_paper/academic_papers: search get
    video/videos: search
    crawl_job/crawl_jobs: create get list cancel
    domain/domains: lookup
    trending_topic/trending_topics: list get
shipping | shipping | shipping logistics fulfillment courier | 0.6 | shop maps
    shipment/shipments: create get list track cancel
    shipping_label/shipping_labels: create get void
    carrier/carriers: list
    pickup/pickups: schedule cancel list
    rate_quote/rate_quotes: get compare
    tracking_event/tracking_events: list
    return_label/return_labels: create
    customs_declaration/customs_declarations: create get
    address/addresses: validate
    delivery_estimate: get
shop | the online store | shop store commerce catalog checkout | 1.0 | shipping billing
    order/orders: get list create update cancel search refund
    product/products: get list create update delete search
    cart/carts: get create update
    customer_review/customer_reviews: list get reply_to
    discount_code/discount_codes: create list
    inventory_level/inventory_levels: get update
project | project management | projects tasks planner board tracker | 2.5 | code calendar chat
    task/tasks: create get list update assign complete delete search
    project/projects: create get list archive
    sprint/sprints: get list start close
    milestone/milestones: create list
    task_comment/task_comments: add list
    time_entry/time_entries: create list
finance | market data | markets finance quotes fx trading | 0.7 | billing websearch
    stock_quote/stock_quotes: get list
    exchange_rate/exchange_rates: get list
    currency/currencies: convert list
    company_financials: get
    market_news: get search
    portfolio/portfolios: get list create rebalance
    watchlist/watchlists: create get
    price_history: get
    earnings_report/earnings_reports: get list
    crypto_price/crypto_prices: get
    dividend/dividends: list
travel | travel booking | travel trips booking flights | 0.6 | maps weather calendar
    flight/flights: search book cancel get
    hotel/hotels: search book get
    booking/bookings: get list cancel modify
    itinerary/itineraries: create get share
    car_rental/car_rentals: search book
    seat_map: get
    flight_status: get
    travel_policy: get
    airport/airports: search
identity | the identity provider | identity sso directory iam | 1.0 | hr helpdesk
    user/users: get list create update delete disable search
    group/groups: list create get
    role/roles: list assign revoke
    session/sessions: list revoke
    access_token/access_tokens: create revoke list
    audit_log/audit_logs: search list
    mfa_factor/mfa_factors: list reset
devops | the deployment platform | deploy ci k8s cloud platform | 2.0 | monitoring code storage
    deployment/deployments: create get list rollback
    pipeline/pipelines: run get list cancel
    build/builds: get list trigger
    instance/instances: list start stop restart get
    cluster/clusters: list get scale
    container_image/container_images: list scan
    environment_variable/environment_variables: list set
notes | notes | notes notebook knowledge kb journal | 1.2 | documents websearch
    note/notes: create get list update delete search summarize
    notebook/notebooks: list create get
    knowledge_article/knowledge_articles: search get create publish
    bookmark/bookmarks: create list delete
    note_tag/note_tags: list add
    highlight/highlights: list export
social | social media | social publisher community brand | 0.6 | analytics chat
    post/posts: publish schedule get list delete search
    comment/comments: list reply_to hide
    mention/mentions: list search
    follower/followers: list count
    scheduled_post/scheduled_posts: list cancel
    post_analytics: get
    hashtag/hashtags: search
    media_upload/media_uploads: create get
    account_insight/account_insights: get
"""


def _parse_domains(spec: str) -> tuple[Domain, ...]:
    domains: list[Domain] = []
    for line in spec.strip().splitlines():
        if not line.startswith(" "):
            key, area, stems, weight, related = (part.strip() for part in line.split("|"))
            domains.append(
                Domain(key, area, tuple(stems.split()), float(weight), tuple(related.split()), ())
            )
        else:
            last = domains[-1]
            domains[-1] = Domain(
                last.key,
                last.area,
                last.stems,
                last.weight,
                last.related,
                (*last.nouns, line.strip()),
            )
    return tuple(domains)


DOMAINS = _parse_domains(DOMAIN_SPEC)
DOMAIN_BY_KEY = {d.key: d for d in DOMAINS}

READ_VERBS = frozenset(
    {"get", "list", "search", "query", "find", "describe", "explain", "fetch", "lookup", "tail"}
    | {"download", "count", "compare", "estimate", "calculate", "detect", "summarize", "export"}
)
DESTRUCTIVE_VERBS = frozenset({"delete", "drop", "void", "revoke", "disable", "remove", "cancel"})
VERB_PHRASES: dict[str, str] = {
    "get": "Get {o}",
    "list": "List {o}",
    "search": "Search {o} by keywords and filters",
    "create": "Create a new {o}",
    "update": "Update an existing {o}",
    "delete": "Delete a {o}",
    "send": "Send a {o}",
    "cancel": "Cancel a {o}",
    "archive": "Archive a {o}",
    "export": "Export {o} as CSV or JSON",
    "count": "Count {o} matching a filter",
    "assign": "Assign a {o} to a person",
    "summarize": "Summarize a {o} in a few sentences",
    "add": "Add a {o}",
    "remove": "Remove a {o}",
    "run": "Run a {o}",
    "query": "Query {o} over a time range",
    "find": "Find {o} that fit the given constraints",
    "share": "Share a {o} with people or groups",
    "close": "Close a {o}",
    "reply_to": "Reply to a {o}",
    "comment_on": "Comment on a {o}",
    "subscribe_to": "Subscribe to {o} for an area",
}
DETAILS: dict[str, tuple[str, ...]] = {
    "read": (
        "Returns JSON; fields can be limited with the fields parameter.",
        "Results are paginated; pass next_cursor to continue.",
        "Read-only: never changes anything.",
    ),
    "write": (
        "Returns the changed record with its id.",
        "Requires write access; the change is recorded in the audit log.",
        "Idempotent when the same request_id is sent again.",
    ),
}
WORDS_FOR_ORG = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Wonka", "Tyrell")
SECTORS = ("Logistics", "Health", "Bank", "Retail", "Labs", "Media", "Energy", "Software")
QUALIFIERS = ("api", "gateway", "service", "mcp", "bridge", "connector", "proxy", "tools", "hub")
REGIONS = ("", "", "", "-eu", "-us", "-apac")


@dataclass(frozen=True)
class Tool:
    domain: str
    name: str
    verb: str
    singular: str
    plural: str


def _parse_tools(domain: Domain) -> list[Tool]:
    tools: list[Tool] = []
    for spec in domain.nouns:
        nouns, _, verbs = spec.partition(":")
        singular, _, plural = nouns.strip().partition("/")
        plural = plural or singular
        for verb in verbs.split():
            name = f"{verb}_{plural if verb in PLURAL_VERBS else singular}"
            tools.append(Tool(domain.key, name, verb, singular, plural))
    return tools


TOOLS: dict[str, list[Tool]] = {d.key: _parse_tools(d) for d in DOMAINS}
for _key, _tools in TOOLS.items():
    assert len(_tools) >= 20, _key
    assert len({t.name for t in _tools}) == len(_tools), _key


def vocabulary() -> list[str]:
    """Every distinct tool name the generator uses."""
    return sorted({t.name for tools in TOOLS.values() for t in tools})


def _description(tool: Tool, variant: int) -> str:
    area = DOMAIN_BY_KEY[tool.domain].area
    words = (tool.plural if tool.verb in PLURAL_VERBS else tool.singular).replace("_", " ")
    phrase = VERB_PHRASES.get(tool.verb, tool.verb.replace("_", " ").capitalize() + " a {o}")
    detail = DETAILS["read" if tool.verb in READ_VERBS else "write"][variant % 3]
    text = f"{phrase.format(o=words)} in {area}."
    return text if variant == 2 else f"{text} {detail}"


def _input_schema(tool: Tool) -> dict[str, Any]:
    thing = tool.singular.replace("_", " ")
    key = "location" if tool.domain in ("weather", "maps") else "id"
    key_doc = "City name or 'lat,lon'" if key == "location" else f"Identifier of the {thing}"
    props: dict[str, Any]
    required: list[str]
    if tool.verb in ("list", "export", "tail"):
        props = {
            "limit": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
            "cursor": {"type": "string", "description": "From a previous page"},
        }
        required = []
    elif tool.verb in ("search", "query", "find", "count"):
        props = {
            "query": {"type": "string", "minLength": 1, "maxLength": 500},
            "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
        }
        required = ["query"]
    elif tool.verb in ("create", "add", "send", "run", "publish", "schedule", "book"):
        props = {
            "title": {"type": "string", "maxLength": 200},
            "body": {"type": "string", "description": f"Content of the {thing}"},
            "tags": {"type": "array", "items": {"type": "string"}},
        }
        required = ["title"]
    else:
        props = {key: {"type": "string", "description": key_doc}}
        required = [key]
        if tool.verb in ("update", "set"):
            props["fields"] = {"type": "object", "additionalProperties": {"type": "string"}}
        elif tool.verb in DESTRUCTIVE_VERBS:
            props["reason"] = {"type": "string", "maxLength": 500}
    return {"type": "object", "properties": props, "required": required}


@dataclass(frozen=True)
class ToolRow:
    name: str
    description: str
    item_tail: str  # kind .. digest columns of capability_items, escaped for COPY text
    catalog_tail: str  # kind, name, description of server_capabilities
    digest: str


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _esc(value: str | None) -> str:
    return "\\N" if value is None else value.translate(_ESCAPES)


_row_cache: dict[tuple[str, str, int], ToolRow] = {}


def tool_row(tool: Tool, variant: int) -> ToolRow:
    key = (tool.domain, tool.name, variant)
    row = _row_cache.get(key)
    if row is None:
        description = _description(tool, variant)
        title = tool.name.replace("_", " ").title() if variant == 0 else None
        body: dict[str, Any] = {
            "name": tool.name,
            "description": description,
            "inputSchema": _input_schema(tool),
            "annotations": {
                "readOnlyHint": tool.verb in READ_VERBS,
                "destructiveHint": tool.verb in DESTRUCTIVE_VERBS,
            },
        }
        if title:
            body["title"] = title
        item_digest = digest(body)
        raw = json.dumps(body, separators=(", ", ": "), ensure_ascii=False)
        row = ToolRow(
            name=tool.name,
            description=description,
            item_tail=(
                f"tool\t{_esc(tool.name)}\t{_esc(title)}\t{_esc(description)}\t{_esc(raw)}"
                f"\t{item_digest}\n"
            ),
            catalog_tail=f"tool\t{_esc(tool.name)}\t{_esc(description)}\n",
            digest=item_digest,
        )
        _row_cache[key] = row
    return row


# -- keys and settings -------------------------------------------------------------------------


def api_key(org_id: uuid.UUID) -> tuple[str, str]:
    """The benchmark's API key of an organization: (prefix, plaintext), derived from its id."""
    mac = hmac.new(KEY_SEED, b"prefix:" + org_id.bytes, hashlib.sha256).digest()
    prefix = "".join(PREFIX_ALPHABET[b % len(PREFIX_ALPHABET)] for b in mac[:12])
    secret = hmac.new(KEY_SEED, b"secret:" + org_id.bytes, hashlib.sha256).digest()
    return prefix, f"sc_{prefix}_{base64.urlsafe_b64encode(secret).decode().rstrip('=')}"


def bench_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    """Settings of the app under test: this database, the fixed secret, no worker."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "secret_key": BENCH_SECRET,
        "redis_url": None,
        "inprocess_worker": False,
        "api_key_rate_limit": "1000000/minute",
        "log_level": "warning",
        "log_format": "json",
    }
    values.update(overrides)
    return Settings(**values, _env_file=None)


# -- generation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    orgs: int = 1000
    servers_per_org: int = 100
    tools_per_server: int = 20
    seed: int = 7

    @property
    def servers(self) -> int:
        return self.orgs * self.servers_per_org

    @property
    def tools(self) -> int:
        return self.servers * self.tools_per_server

    def comment(self) -> str:
        return (
            f"{MARKER}: orgs={self.orgs} servers_per_org={self.servers_per_org} "
            f"tools_per_server={self.tools_per_server} seed={self.seed}"
        )

    @classmethod
    def from_comment(cls, comment: str | None) -> Shape | None:
        if not comment or not comment.startswith(MARKER):
            return None
        values = dict(re.findall(r"(\w+)=(\d+)", comment))
        return cls(**{k: int(v) for k, v in values.items() if k in cls.__dataclass_fields__})


class _Ids:
    """Reproducible version-4 UUIDs from the dataset's seed."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def __call__(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)


def _ts(value: datetime) -> str:
    return value.isoformat()


class _Streams:
    """One COPY per table, each on its own connection, fed in chunks."""

    def __init__(self, conninfo: str, tables: dict[str, str]) -> None:
        self._stack = contextlib.ExitStack()
        self.buffers: dict[str, list[str]] = {t: [] for t in tables}
        self.counts: dict[str, int] = dict.fromkeys(tables, 0)
        self.copies: dict[str, Any] = {}
        for table, columns in tables.items():
            conn = self._stack.enter_context(psycopg.connect(conninfo))
            _loading_session(conn)
            cur = self._stack.enter_context(conn.cursor())
            self.copies[table] = self._stack.enter_context(
                cur.copy(f"COPY {table} ({columns}) FROM STDIN")
            )

    def add(self, table: str, line: str) -> None:
        self.buffers[table].append(line)
        self.counts[table] += 1

    def flush(self) -> None:
        for table, lines in self.buffers.items():
            if lines:
                self.copies[table].write("".join(lines))
                lines.clear()

    def close(self) -> None:
        self.flush()
        self._stack.close()  # ends every COPY, then commits each connection


def _loading_session(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SET session_replication_role = replica")  # no FK triggers while loading
    conn.execute("SET synchronous_commit = off")


def _secondary_indexes(conn: psycopg.Connection[Any], tables: list[str]) -> list[tuple[str, str]]:
    rows = conn.execute(
        """
        SELECT ic.relname, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        JOIN pg_class t ON t.oid = i.indrelid
        JOIN pg_class ic ON ic.oid = i.indexrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
        WHERE t.relname = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY ic.relname
        """,
        (tables,),
    ).fetchall()
    return [(str(name), str(definition)) for name, definition in rows]


class _Progress:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    def __call__(self, message: str) -> None:
        print(f"  [{time.perf_counter() - self.started:7.1f}s] {message}", flush=True)


BULK_TABLES = ["mcp_servers", "capability_snapshots", "capability_items", "server_capabilities"]


def load(conninfo: str, shape: Shape, keyring: KeyRing) -> None:
    """Generate and COPY the whole dataset into a migrated, empty database."""
    rng = random.Random(shape.seed)
    new_id = _Ids(rng)
    progress = _Progress()
    now = datetime.now(UTC).replace(microsecond=0)

    # Organizations, their admin users, memberships, role assignments and keys.
    orgs: list[tuple[uuid.UUID, str, uuid.UUID]] = []  # (org id, slug, admin user id)
    small = _Streams(
        conninfo,
        {
            "organizations": "id, name, slug, time_zone, catalog_generation, created_at",
            "users": "id, email, created_at",
            "memberships": "id, org_id, user_id, display_name, created_at",
            "role_assignments": "org_id, user_id, role_name, created_at",
            "api_keys": "id, org_id, name, description, prefix, key_hash, scopes, "
            "created_by_user_id, kind, created_at",
        },
    )
    for n in range(shape.orgs):
        org_id, user_id, key_id = new_id(), new_id(), new_id()
        name = f"{rng.choice(WORDS_FOR_ORG)} {rng.choice(SECTORS)} {n + 1:04d}"
        slug = name.lower().replace(" ", "-")
        joined = _ts(now - timedelta(days=800 - n * 400 / max(1, shape.orgs)))
        zone = rng.choice(TIME_ZONES)
        small.add("organizations", f"{org_id}\t{name}\t{slug}\t{zone}\t0\t{joined}\n")
        small.add("users", f"{user_id}\tadmin@{slug}.example.com\t{joined}\n")
        small.add(
            "memberships",
            f"{new_id()}\t{org_id}\t{user_id}\t{name.split()[0]} Admin\t{joined}\n",
        )
        small.add("role_assignments", f"{org_id}\t{user_id}\tadmin\t{joined}\n")
        prefix, plaintext = api_key(org_id)
        key_hash = keyring.hmac(HMAC_PURPOSE, plaintext.encode()).hex()
        small.add(
            "api_keys",
            f"{key_id}\t{org_id}\tsearch-benchmark\tKey of the search benchmark\t{prefix}"
            f"\t\\\\x{key_hash}\t{{admin}}\t{user_id}\tuser\t{joined}\n",
        )
        orgs.append((org_id, slug, user_id))
    small.close()
    progress(f"organizations, admin users, memberships, role assignments, API keys: {shape.orgs}")

    with psycopg.connect(conninfo, autocommit=True) as conn:
        # Each server's health row (schedule and status), which a trigger adds on insert; the
        # loading sessions fire no triggers, so the load writes the rows itself.
        found = conn.execute("SELECT to_regclass('server_health') IS NOT NULL").fetchone()
        health = bool(found and found[0])
        bulk = BULK_TABLES + (["server_health"] if health else [])
        indexes = _secondary_indexes(conn, bulk)
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
    progress(f"dropped {len(indexes)} secondary indexes for the load")

    # Servers in registration order, interleaved across tenants.
    order = [(o, s) for o in range(shape.orgs) for s in range(shape.servers_per_org)]
    rng.shuffle(order)
    weights = [d.weight for d in DOMAINS]
    taken: dict[tuple[int, str], set[str]] = {}
    streams = _Streams(
        conninfo,
        {
            "mcp_servers": "id, org_id, name, description, url, transport, environment, tags, "
            "status, auth_type, auth_config, auto_discover, "
            "created_by_user_id, created_at, updated_at, current_snapshot_version, "
            "last_discovered_at",
            "capability_snapshots": "id, org_id, server_id, version, digest, protocol_version, "
            "server_info, capabilities, counts, truncation, created_at, last_confirmed_at",
            "capability_items": "id, org_id, snapshot_id, server_id, kind, name, title, "
            "description, body, digest",
            "server_capabilities": "id, org_id, server_id, item_id, snapshot_version, kind, "
            "name, description",
        }
        | (
            {"server_health": "server_id, org_id, interval_seconds, next_check_at"}
            if health
            else {}
        ),
    )
    span = timedelta(days=400).total_seconds()
    caps_json = _esc(json.dumps({"tools": {"listChanged": True}}))
    counts_json = _esc(json.dumps({"tool": shape.tools_per_server}))
    step = max(1, len(order) // 10)
    for i, (org_index, _) in enumerate(order):
        org_id, slug, user_id = orgs[org_index]
        primary = rng.choices(DOMAINS, weights)[0]
        second = (
            DOMAIN_BY_KEY[rng.choice(primary.related)] if rng.random() < SECONDARY_SHARE else None
        )
        environment = rng.choices(ENVIRONMENTS, ENVIRONMENT_WEIGHTS)[0]
        tags = sorted(rng.sample(TAGS, rng.choices(range(5), TAG_COUNT_WEIGHTS)[0]))
        stem = rng.choice(primary.stems)
        base = f"{stem}-{rng.choice(QUALIFIERS)}{rng.choice(REGIONS)}"
        used = taken.setdefault((org_index, environment), set())
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base}-{n}"
        used.add(name)

        # Tools: mostly from the primary domain, the rest from the related one.
        count = shape.tools_per_server
        own = TOOLS[primary.key]
        share = 20 if second is None else rng.randint(12, 16)  # of every 20 tools
        first = min(len(own), max(1, round(count * share / 20)))
        chosen = rng.sample(own, first)
        names = {t.name for t in chosen}
        pool = [t for t in TOOLS[(second or primary).key] if t.name not in names]
        if len(chosen) < count:
            chosen += rng.sample(pool, min(len(pool), count - len(chosen)))
        variant = rng.randrange(3)
        rows = [tool_row(t, variant) for t in chosen]

        server_id, snapshot_id = new_id(), new_id()
        created = now - timedelta(seconds=span * (1 - i / len(order)) + 3600)
        discovered = _ts(created + timedelta(minutes=rng.randint(1, 600)))
        version = f"1.{rng.randint(0, 9)}.{rng.randint(0, 20)}"
        area = (primary.area + (f" and {second.area}" if second else "")).replace("the ", "")
        interval = rng.choice((30, 60, 60, 300))
        streams.add(
            "mcp_servers",
            f"{server_id}\t{org_id}\t{name}\tTools for {area}.\t"
            f"https://{name}.{slug}.example.com/mcp\tstreamable_http\t{environment}\t"
            f"{{{','.join(tags)}}}\tactive\tnone\t{{}}\tt\t"
            f"{user_id}\t{_ts(created)}\t{discovered}\t1\t{discovered}\n",
        )
        if health:
            due = _ts(now + timedelta(seconds=interval * (i % 97) / 97))
            streams.add("server_health", f"{server_id}\t{org_id}\t{interval}\t{due}\n")
        info = {"name": name, "version": version}
        listed = sorted(("tool", r.name, r.digest) for r in rows)
        capabilities = {"tools": {"listChanged": True}}
        snapshot_digest = digest(
            {"items": listed, "server_info": info, "capabilities": capabilities}
        )
        streams.add(
            "capability_snapshots",
            f"{snapshot_id}\t{org_id}\t{server_id}\t1\t{snapshot_digest}\t{PROTOCOL_VERSION}\t"
            f"{_esc(json.dumps(info))}\t{caps_json}\t{counts_json}\t{{}}\t"
            f"{discovered}\t{discovered}\n",
        )
        head = f"{org_id}\t{snapshot_id}\t{server_id}\t"
        for row in rows:
            item_id = new_id()
            streams.add("capability_items", f"{item_id}\t{head}{row.item_tail}")
            streams.add(
                "server_capabilities",
                f"{new_id()}\t{org_id}\t{server_id}\t{item_id}\t1\t{row.catalog_tail}",
            )
        if (i + 1) % 2000 == 0:
            streams.flush()
        if (i + 1) % step == 0 or i + 1 == len(order):
            progress(
                f"servers {i + 1:,}/{len(order):,}; items "
                f"{streams.counts['capability_items']:,}; catalog rows "
                f"{streams.counts['server_capabilities']:,}"
            )
    streams.close()
    progress(
        "committed: " + ", ".join(f"{t} {c:,}" for t, c in streams.counts.items() if t in bulk)
    )

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        for name, definition in indexes:
            started = time.perf_counter()
            conn.execute(definition)
            progress(f"index {name} rebuilt ({time.perf_counter() - started:.1f}s)")
        for table in ("organizations", "users", "memberships", "role_assignments", "api_keys"):
            conn.execute(f"ANALYZE {table}")
        for table in bulk:
            conn.execute(f"VACUUM (ANALYZE) {table}")
        progress("VACUUM (ANALYZE) done")


# -- the scratch database ----------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    url: str  # the owner's (superuser's) URL of the database
    name: str
    where: str
    shape: Shape
    build_seconds: float | None  # None: reused


def conninfo(url: str) -> str:
    """A libpq URI (for psycopg) from any PostgreSQL URL SQLAlchemy understands."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _migrate(url: str, data_dir: Path) -> None:
    from sprintconnect.db import migrate
    from sprintconnect.runtime import build_runtime

    runtime = build_runtime(bench_settings(url, data_dir))
    try:
        migrate.upgrade(runtime.db)  # also (re)creates the app role and its password
    finally:
        asyncio.run(runtime.db.engine.dispose())


@contextlib.contextmanager
def open_dataset(
    shape: Shape, *, keep: bool, reuse: str | None, data_dir: Path
) -> Iterator[Dataset]:
    """Build the dataset in a new database (or reuse a kept one); drop it afterwards unless kept."""
    from sprintconnect.db.embedded import embedded_url, release_embedded

    local = _port_open("127.0.0.1", 5432)
    embedded_dir = data_dir / "pg"
    if not local and (keep or reuse):
        # A kept embedded database has to outlive this run's temporary directory.
        embedded_dir = Path(tempfile.gettempdir()) / "sprintconnect-search-bench-pg"
    admin = LOCAL_ADMIN if local else conninfo(embedded_url(embedded_dir))
    where = "PostgreSQL on 127.0.0.1:5432" if local else "embedded PostgreSQL"
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            if reuse:
                row = conn.execute(
                    "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                    "WHERE datname = %s",
                    (reuse,),
                ).fetchone()
                found = Shape.from_comment(row[0]) if row else None
                if found is None:
                    raise SystemExit(f"no kept search-benchmark database named {reuse!r}")
                shape, name = found, reuse
            else:
                name = f"sc_bench_search_{uuid.uuid4().hex[:8]}"
                conn.execute(f'CREATE DATABASE "{name}"')
        url = make_url(admin).set(database=name).render_as_string(hide_password=False)
        try:
            started = time.perf_counter()
            _migrate(url, data_dir)
            built: float | None = None
            if not reuse:
                print(
                    f"  building {name} on {where}: {shape.orgs:,} orgs, {shape.servers:,} "
                    f"servers, {shape.tools:,} tools",
                    flush=True,
                )
                keyring = KeyRing(BENCH_SECRET.encode())
                load(conninfo(url), shape, keyring)
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{shape.comment()}'")
                built = time.perf_counter() - started
                print(f"  dataset built in {built:.1f}s", flush=True)
            yield Dataset(url, name, where, shape, built)
        finally:
            if keep or reuse:
                print(f"  database kept: measure it again with --reuse {name}", flush=True)
            else:
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        if not local:
            release_embedded(embedded_dir)


def add_shape_options(parser: argparse.ArgumentParser) -> None:
    default = Shape()
    parser.add_argument("--orgs", type=int, default=default.orgs, help="organizations (1000)")
    parser.add_argument(
        "--servers-per-org", type=int, default=default.servers_per_org, help="(100)"
    )
    parser.add_argument(
        "--tools-per-server", type=int, default=default.tools_per_server, help="(20)"
    )
    parser.add_argument("--seed", type=int, default=default.seed)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", metavar="NAME", help="measure a kept database again")


def shape_of(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Shape:
    shape = Shape(args.orgs, args.servers_per_org, args.tools_per_server, args.seed)
    if min(shape.orgs, shape.servers_per_org, shape.tools_per_server) < 1:
        parser.error("every count must be at least 1")
    if shape.tools_per_server > 20:
        parser.error("--tools-per-server is at most 20")
    return shape


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.search_dataset")
    add_shape_options(parser)
    args = parser.parse_args(argv)
    shape = shape_of(args, parser)
    with (
        tempfile.TemporaryDirectory(prefix="sc-bench-search-") as folder,
        open_dataset(shape, keep=args.keep, reuse=args.reuse, data_dir=Path(folder)) as data,
    ):
        print(f"  {data.name}: {data.shape.comment()}")


if __name__ == "__main__":
    main()
