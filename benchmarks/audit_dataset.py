"""The audit-log dataset: one large organization's log among noise organizations, with COPY.

Full size (the defaults): 10,000,000 entries in the measured organization, plus 2% as many in
each of ``--noise-orgs`` (9) other organizations (1,800,000 in all), interleaved in one append
order (a shared table, as a long-lived platform stores it), over the last 365 days. The
measured organization has 50 members, each with 2 API keys (user keys; the first member's
first key is the benchmark's admin key, derived like the search benchmark's), 2 service keys,
2,000 servers, 40 roles.

Entries follow a skewed mix of the app's real tags (key use and health checks dominate; policy
changes are rare; 0.6% are refused authentications), actors drawn with a Zipf-like skew (a few
keys do most of the work), targets that fit the tag, small details (names, environments,
statuses, counts), a random request id, a handful of addresses and user agents. When the schema
has the actor's owning user (``actor_user_id``, revision 0019), key entries carry it.

Built like ``benchmarks.search_dataset``: a scratch database migrated with the app's revisions,
loaded as the owner with the secondary indexes of ``audit_events`` dropped and rebuilt after the
load, foreign-key triggers off (``session_replication_role = replica``), one COPY stream, then
``VACUUM (ANALYZE)``. Kept with ``--keep``, measured again with ``--reuse NAME``.

Build it alone: ``python -m benchmarks.audit_dataset [--rows N] [--keep]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import re
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from benchmarks.search_dataset import (
    BENCH_SECRET,
    LOCAL_ADMIN,
    _esc,
    _loading_session,
    _migrate,
    _port_open,
    _Progress,
    _secondary_indexes,
    _Streams,
    api_key,
    conninfo,
)
from sprintconnect.api_key.service import HMAC_PURPOSE
from sprintconnect.kit.secrets import KeyRing

MARKER = "sprintconnect audit benchmark"
SPAN = timedelta(days=365)

# (tag, weight, target kind): the mix of a busy organization's log.
TAGS: tuple[tuple[str, float, str], ...] = (
    ("org:api_key:authenticated", 30.0, "api_key"),
    ("org:server_health:checked", 24.0, "server"),
    ("org:request:audited", 10.0, "request"),
    ("org:discovery:requested", 8.0, "server"),
    ("org:server:updated", 7.0, "server"),
    ("org:server:credentials_updated", 2.0, "server"),
    ("org:server:registered", 2.0, "server"),
    ("org:server:deleted", 0.8, "server"),
    ("org:api_key:created", 1.5, "api_key"),
    ("org:api_key:revoked", 1.0, "api_key"),
    ("org:role:assigned", 1.2, "user"),
    ("org:role:unassigned", 0.8, "user"),
    ("org:role:updated", 0.5, "role"),
    ("org:role:created", 0.2, "role"),
    ("org:member:added", 0.4, "user"),
    ("org:member:removed", 0.2, "user"),
    ("org:notification_preferences:updated", 0.3, "org"),
    ("org:escalation_policy:updated", 0.1, "org"),
    ("org:organization:settings_updated", 0.1, "org"),
    ("org:policy:published", 0.05, "policy"),
    ("org:policy:rolled_back", 0.01, "policy"),
    ("org:api_key:auth_failed", 0.4, "api_key"),
    ("org:api_key:auth_expired", 0.1, "api_key"),
    ("org:api_key:auth_revoked", 0.05, "api_key"),
    ("org:api_key:auth_throttled", 0.05, "api_key"),
)
ENVIRONMENTS = ("development", "staging", "production")
STATUSES = ("healthy", "healthy", "healthy", "degraded", "unhealthy")
WORDS = ("weather", "calendar", "tickets", "billing", "docs", "chat", "repos", "metrics")
AGENTS = (
    "sprintconnect-cli/1.4.2",
    "python-httpx/0.28.1",
    "curl/8.5.0",
    "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/133.0",
    "terraform-provider-sprintconnect/0.9.0",
)


@dataclass(frozen=True)
class Shape:
    rows: int = 10_000_000
    noise_orgs: int = 9
    members: int = 50
    servers: int = 2000
    seed: int = 13

    @property
    def noise_rows(self) -> int:
        return self.rows // 50

    @property
    def total(self) -> int:
        return self.rows + self.noise_orgs * self.noise_rows

    def comment(self) -> str:
        return (
            f"{MARKER}: rows={self.rows} noise_orgs={self.noise_orgs} members={self.members} "
            f"servers={self.servers} seed={self.seed}"
        )

    @classmethod
    def from_comment(cls, comment: str | None) -> Shape | None:
        if not comment or not comment.startswith(MARKER):
            return None
        values = dict(re.findall(r"(\w+)=(\d+)", comment))
        return cls(**{k: int(v) for k, v in values.items() if k in cls.__dataclass_fields__})


@dataclass
class Org:
    id: uuid.UUID
    users: list[str]
    user_keys: list[tuple[str, str]]  # (key id, owning user id)
    service_keys: list[str]
    servers: list[str]
    roles: list[str]
    policy: list[str]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _skewed(rng: random.Random, n: int) -> int:
    """An index in ``range(n)``, small ones far more often (Zipf-like)."""
    return min(n - 1, int(n * rng.random() ** 3))


def _orgs(conninfo_: str, shape: Shape, rng: random.Random, keyring: KeyRing) -> list[Org]:
    """Organizations, members, roles and keys (the first organization is the measured one)."""
    now = datetime.now(UTC)
    orgs: list[Org] = []
    small = _Streams(
        conninfo_,
        {
            "organizations": "id, name, slug, time_zone, catalog_generation, created_at",
            "users": "id, email, created_at",
            "memberships": "id, org_id, user_id, display_name, created_at",
            "role_assignments": "org_id, user_id, role_name, created_at",
            "api_keys": "id, org_id, name, description, prefix, key_hash, scopes, "
            "created_by_user_id, kind, created_at",
        },
    )
    for n in range(1 + shape.noise_orgs):
        org_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        slug = f"audit-bench-{n:02d}"
        joined = (now - SPAN - timedelta(days=30)).isoformat()
        small.add("organizations", f"{org_id}\tAudit Bench {n:02d}\t{slug}\tUTC\t0\t{joined}\n")
        members = shape.members if n == 0 else 5
        org = Org(org_id, [], [], [], [], [], [])
        for m in range(members):
            user_id = _uuid(rng)
            org.users.append(user_id)
            small.add("users", f"{user_id}\tmember{m}@{slug}.example.com\t{joined}\n")
            small.add("memberships", f"{_uuid(rng)}\t{org_id}\t{user_id}\tMember {m}\t{joined}\n")
            role = "admin" if m == 0 else rng.choice(("engineer", "analyst", "viewer"))
            small.add("role_assignments", f"{org_id}\t{user_id}\t{role}\t{joined}\n")
            for k in range(2):
                if m == 0 and k == 0:
                    key_id = _uuid(rng)
                    prefix, plaintext = api_key(org_id)
                    digest = keyring.hmac(HMAC_PURPOSE, plaintext.encode()).hex()
                    name = "audit-benchmark"
                    scopes = "{admin}"
                else:
                    key_id = _uuid(rng)
                    prefix = f"ab{rng.getrandbits(40):010x}"
                    digest = f"{rng.getrandbits(256):064x}"
                    name, scopes = f"key {m}-{k}", "{read}"
                org.user_keys.append((key_id, user_id))
                small.add(
                    "api_keys",
                    f"{key_id}\t{org_id}\t{name}\t\\N\t{prefix}\t\\\\x{digest}\t{scopes}\t"
                    f"{user_id}\tuser\t{joined}\n",
                )
        for s in range(2):
            key_id = _uuid(rng)
            org.service_keys.append(key_id)
            small.add(
                "api_keys",
                f"{key_id}\t{org_id}\tservice {s}\t\\N\tsv{rng.getrandbits(40):010x}\t"
                f"\\\\x{rng.getrandbits(256):064x}\t{{write}}\t\\N\tservice\t{joined}\n",
            )
        org.servers = [_uuid(rng) for _ in range(shape.servers if n == 0 else 200)]
        org.roles = [f"role-{r}" for r in range(40)]
        org.policy = [str(v) for v in range(1, 200)]
        orgs.append(org)
    small.close()
    return orgs


class _Entries:
    """Generates one organization's entries as COPY lines."""

    def __init__(self, org: Org, rng: random.Random, with_user: bool) -> None:
        self.org = org
        self.rng = rng
        self.with_user = with_user
        self.tags = [t for t, _, _ in TAGS]
        self.cum = []
        total = 0.0
        for _, weight, _ in TAGS:
            total += weight
            self.cum.append(total)
        self.kinds = {t: kind for t, _, kind in TAGS}
        self.ips = [f"203.0.113.{i}" for i in range(1, 40)] + [f"198.51.100.{i}" for i in range(9)]
        self.actors = len(org.user_keys)

    def line(self, at: str) -> str:
        rng, org = self.rng, self.org
        tag = rng.choices(self.tags, cum_weights=self.cum)[0]
        kind = self.kinds[tag]
        failed = ":auth_" in tag
        owner = "\\N"
        if failed:
            actor_type, actor_id = "anonymous", "\\N"
        else:
            pick = rng.random()
            if pick < 0.8:
                key_id, user_id = org.user_keys[_skewed(rng, self.actors)]
                actor_type, actor_id, owner = "api_key", key_id, user_id
            elif pick < 0.9:
                actor_type, actor_id = "service", org.service_keys[rng.randrange(2)]
            elif pick < 0.97:
                actor_type = "user"
                actor_id = owner = org.users[_skewed(rng, len(org.users))]
            else:
                actor_type, actor_id = "system", "\\N"
        details: dict[str, object]
        if kind == "server":
            target_type, target_id = "mcp_server", org.servers[_skewed(rng, len(org.servers))]
            word = WORDS[rng.randrange(len(WORDS))]
            details = {"name": f"{word}-{target_id[:4]}", "environment": rng.choice(ENVIRONMENTS)}
            if tag == "org:server_health:checked":
                details["status"] = rng.choice(STATUSES)
                details["latency_ms"] = rng.randint(5, 900)
        elif kind == "api_key":
            key_id, _ = org.user_keys[_skewed(rng, self.actors)]
            target_type, target_id = "api_key", key_id
            details = {"key_prefix": f"sc_{key_id[:8]}{key_id[9:13]}"}
            if failed:
                details["reason"] = tag.rsplit("auth_", 1)[1]
        elif kind == "user":
            target_type, target_id = "user", org.users[rng.randrange(len(org.users))]
            details = {"role": rng.choice(org.roles)}
        elif kind == "role":
            target_type, target_id = "role", rng.choice(org.roles)
            details = {"permissions": rng.randint(1, 20)}
        elif kind == "policy":
            target_type, target_id = "policy", rng.choice(org.policy)
            details = {"version": int(target_id)}
        elif kind == "request":
            target_type, target_id = "request", f"{rng.getrandbits(64):016x}"
            details = {"method": "GET", "path": "/api/v1/servers", "status": 200}
        else:
            target_type, target_id = "organization", str(org.id)
            details = {"changed": ["time_zone"]}
        ip = self.ips[rng.randrange(len(self.ips))]
        agent = AGENTS[_skewed(rng, len(AGENTS))]
        head = f"{_uuid(rng)}\t{org.id}\t{at}\t{tag}\t{actor_type}\t{actor_id}\t"
        user = f"{owner}\t" if self.with_user else ""
        return (
            f"{head}{user}{target_type}\t{target_id}\t{_esc(json.dumps(details))}\t"
            f"{rng.getrandbits(128):032x}\t{ip}\t{agent}\n"
        )


def load(conninfo_: str, shape: Shape, keyring: KeyRing) -> None:
    """Generate and COPY the whole dataset into a migrated, empty database."""
    rng = random.Random(shape.seed)
    progress = _Progress()
    orgs = _orgs(conninfo_, shape, rng, keyring)
    progress(f"{len(orgs)} organizations with members, roles and keys")
    with psycopg.connect(conninfo_, autocommit=True) as conn:
        found = conn.execute(
            "SELECT count(*) FROM information_schema.columns "
            "WHERE table_name = 'audit_events' AND column_name = 'actor_user_id'"
        ).fetchone()
        with_user = bool(found and found[0])
        indexes = _secondary_indexes(conn, ["audit_events"])
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
    progress(f"dropped {len(indexes)} secondary indexes of audit_events for the load")

    columns = "id, org_id, occurred_at, tag, actor_type, actor_id, " + (
        "actor_user_id, " if with_user else ""
    )
    columns += "target_type, target_id, details, request_id, ip, user_agent"
    makers = [_Entries(org, rng, with_user) for org in orgs]
    # The measured organization writes ``rows``; each noise organization a 50th of that, in
    # one interleaved append order over the span.
    weights = [shape.rows] + [shape.noise_rows] * shape.noise_orgs
    cum = []
    total = 0
    for w in weights:
        total += w
        cum.append(total)
    start = datetime.now(UTC) - SPAN
    step = SPAN.total_seconds() / shape.total
    base = start.timestamp()
    report = max(1, shape.total // 10)
    written = 0
    with psycopg.connect(conninfo_) as conn:
        _loading_session(conn)
        with conn.cursor() as cur, cur.copy(f"COPY audit_events ({columns}) FROM STDIN") as copy:
            chunk: list[str] = []
            for i in range(shape.total):
                at = datetime.fromtimestamp(base + i * step + rng.random() * step, UTC)
                maker = makers[rng.choices(range(len(makers)), cum_weights=cum)[0]]
                chunk.append(maker.line(at.isoformat()))
                if len(chunk) >= 5000:
                    copy.write("".join(chunk))
                    chunk.clear()
                written += 1
                if written % report == 0:
                    progress(f"entries {written:,}/{shape.total:,}")
            if chunk:
                copy.write("".join(chunk))
        conn.commit()
    progress(f"committed {written:,} entries")
    with psycopg.connect(conninfo_, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET max_parallel_maintenance_workers = 1")
        for name, definition in indexes:
            started = time.perf_counter()
            conn.execute(definition)
            progress(f"index {name} rebuilt ({time.perf_counter() - started:.1f}s)")
        for table in ("organizations", "users", "memberships", "role_assignments", "api_keys"):
            conn.execute(f"ANALYZE {table}")
        conn.execute("VACUUM (ANALYZE) audit_events")
        progress("VACUUM (ANALYZE) done")


# -- the scratch database ----------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    url: str  # the owner's URL of the database
    name: str
    shape: Shape
    build_seconds: float | None  # None: reused

    def measured_org(self) -> uuid.UUID:
        with psycopg.connect(conninfo(self.url)) as conn:
            row = conn.execute(
                "SELECT id FROM organizations WHERE slug = 'audit-bench-00'"
            ).fetchone()
        assert row is not None
        return uuid.UUID(str(row[0]))


@contextlib.contextmanager
def open_dataset(
    shape: Shape, *, keep: bool, reuse: str | None, data_dir: Path
) -> Iterator[Dataset]:
    """Build the dataset in a new database on the local server (or reuse a kept one)."""
    if not _port_open("127.0.0.1", 5432):
        raise SystemExit("the audit benchmark needs PostgreSQL on 127.0.0.1:5432")
    admin = LOCAL_ADMIN
    with psycopg.connect(admin, autocommit=True) as conn:
        if reuse:
            row = conn.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                (reuse,),
            ).fetchone()
            found = Shape.from_comment(row[0]) if row else None
            if found is None:
                raise SystemExit(f"no kept audit-benchmark database named {reuse!r}")
            shape, name = found, reuse
        else:
            name = f"sc_bench_audit_{uuid.uuid4().hex[:8]}"
            conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        started = time.perf_counter()
        _migrate(url, data_dir)  # also for a reused database: its app role password
        built: float | None = None
        if not reuse:
            print(
                f"  building {name}: {shape.rows:,} entries in the measured organization, "
                f"{shape.total:,} in all",
                flush=True,
            )
            load(conninfo(url), shape, KeyRing(BENCH_SECRET.encode()))
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{shape.comment()}'")
            built = time.perf_counter() - started
            print(f"  dataset built in {built:.1f}s", flush=True)
        yield Dataset(url, name, shape, built)
    finally:
        if keep or reuse:
            print(f"  database kept: measure it again with --reuse {name}", flush=True)
        else:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def add_shape_options(parser: argparse.ArgumentParser) -> None:
    default = Shape()
    parser.add_argument(
        "--rows", type=int, default=default.rows, help="entries of the measured org (10,000,000)"
    )
    parser.add_argument("--noise-orgs", type=int, default=default.noise_orgs, help="(9)")
    parser.add_argument("--seed", type=int, default=default.seed)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", metavar="NAME", help="measure a kept database again")


def shape_of(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Shape:
    if args.rows < 1000 or args.noise_orgs < 0:
        parser.error("--rows is at least 1000, --noise-orgs at least 0")
    return Shape(rows=args.rows, noise_orgs=args.noise_orgs, seed=args.seed)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.audit_dataset")
    add_shape_options(parser)
    args = parser.parse_args(argv)
    shape = shape_of(args, parser)
    with (
        tempfile.TemporaryDirectory(prefix="sc-bench-audit-") as folder,
        open_dataset(shape, keep=args.keep, reuse=args.reuse, data_dir=Path(folder)) as data,
    ):
        print(f"  {data.name}: {data.shape.comment()}")


if __name__ == "__main__":
    main()
