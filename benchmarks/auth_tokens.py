"""What a token costs: ``GET /api/v1/me`` with an API key, a JWT bearer token and a DPoP-bound JWT.

Dataset: the scratch database of ``request`` (``request_cost.scratch_database``: migrated,
``--orgs`` organizations, each with an admin member and that member's ``admin`` API key). The
app is started once (uvicorn with the settings of ``sprintconnect serve``, as ``request``
starts it), and every credential is measured against that one process, in the same run:

* ``api-key``: ``Authorization: Bearer sc_...``, one organization's admin key.
* ``jwt``: a service account of that organization (created through
  ``POST /api/v1/service-accounts`` with the admin key, role ``admin``) gets an access token
  from ``POST /oauth/token`` (client credentials); ``Authorization: Bearer <jwt>``.
* ``dpop``: the same service account gets a DPoP-bound token (a proof on the token request);
  every ``/me`` request then carries ``Authorization: DPoP <jwt>`` and a fresh proof (new
  ``jti``, ``ath`` of the token) signed with the client's ES256 key. Proofs are made by the
  client before each load run, enough for it (a replayed proof would answer 401 and show in
  the non-200 column); the time to make them is client-side and reported on its own line, per
  proof, not inside the server's figures.

Load (the asyncio client of ``request``, in its own process, for all three credentials alike):
the peak closed-loop at ``--concurrency`` (32) for ``--duration`` seconds after a ``--warmup``,
``--rounds`` (2) rounds alternating the credentials, each keeping its best; then latency at a
fixed offered load, open loop, of half the slowest credential's peak (below saturation for all
three), from each request's due time.

Figures are ratios to the API-key path measured in the same run; absolute numbers are lower
bounds on a shared machine (client, app, PostgreSQL and Redis share its cores). Issue 14 asks
for the ratios; there is no goal to meet.

Run: ``python -m benchmarks auth_tokens [--quick] [--duration S --rounds N --redis URL]``
(``make bench ARGS="auth_tokens --quick"``).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import math
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
from joserfc import jwt
from joserfc.jwk import ECKey

from sprintconnect.config import Settings

from .request_cost import Load, redis_choice, run_client, scratch_database, server
from .search_dataset import api_key, bench_settings, conninfo

ME_PATH = "/api/v1/me"
TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path, not a secret
SERVICE_ACCOUNTS_PATH = "/api/v1/service-accounts"
QUICK = {"duration": 4.0, "warmup": 1.0, "rounds": 1}
KINDS = ("api-key", "jwt", "dpop")
PROOF_MARGIN = 1.5  # proofs made per expected request: a run must never run out


# -- the client's credentials ------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Dpop:
    """The client's DPoP key and what its proofs name."""

    key: ECKey
    base_url: str

    def proof(self, method: str, path: str, access_token: str | None = None) -> str:
        claims: dict[str, Any] = {
            "jti": uuid.uuid4().hex,
            "htm": method,
            "htu": self.base_url + path,
            "iat": int(time.time()),
        }
        if access_token is not None:
            claims["ath"] = _b64(hashlib.sha256(access_token.encode()).digest())
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.key.as_dict(private=False)}
        return jwt.encode(header, claims, self.key, algorithms=["ES256"])


@dataclass
class Credentials:
    api_key: str
    client_id: str
    client_secret: str
    dpop: Dpop


def _fail(step: str, response: httpx.Response) -> RuntimeError:
    return RuntimeError(f"{step}: {response.status_code} {response.text[:300]}")


def create_client(http: httpx.Client, key: str, base_url: str) -> Credentials:
    """A service account (role admin) of the API key's organization, through the API."""
    response = http.post(
        SERVICE_ACCOUNTS_PATH,
        json={"name": f"bench-{uuid.uuid4().hex[:8]}", "roles": ["admin"]},
        headers={"authorization": f"Bearer {key}"},
    )
    if response.status_code != 201:
        raise _fail("creating a service account", response)
    body = response.json()
    dpop = Dpop(ECKey.generate_key("P-256"), base_url)
    return Credentials(key, body["service_account"]["client_id"], body["client_secret"], dpop)


def access_token(http: httpx.Client, creds: Credentials, *, bound: bool) -> str:
    """A token from ``POST /oauth/token`` (client credentials); DPoP-bound when ``bound``."""
    headers = {"dpop": creds.dpop.proof("POST", TOKEN_PATH)} if bound else {}
    response = http.post(
        TOKEN_PATH,
        data={"grant_type": "client_credentials"},
        auth=(creds.client_id, creds.client_secret),
        headers=headers,
    )
    if response.status_code == 400 and response.json().get("error") == "use_dpop_nonce":
        raise RuntimeError("the server requires DPoP nonces: run with dpop_require_nonce off")
    if response.status_code != 200:
        raise _fail("getting an access token", response)
    body = response.json()
    expected = "DPoP" if bound else "Bearer"
    if body.get("token_type", "").lower() != expected.lower():
        raise RuntimeError(f"expected a {expected} token, got {body.get('token_type')!r}")
    return str(body["access_token"])


def _request(authorization: str, proof: str | None = None) -> bytes:
    extra = f"dpop: {proof}\r\n" if proof else ""
    return (
        f"GET {ME_PATH} HTTP/1.1\r\nhost: bench\r\nauthorization: {authorization}\r\n{extra}\r\n"
    ).encode()


@dataclass
class Payloads:
    """Requests for one load run, and what making their proofs cost the client."""

    requests: list[bytes]
    proof_seconds: float = 0.0
    proofs: int = 0


def payloads(kind: str, http: httpx.Client, creds: Credentials, count: int) -> Payloads:
    """Requests for ``kind``; for DPoP, ``count`` of them, each with its own fresh proof."""
    if kind == "api-key":
        return Payloads([_request(f"Bearer {creds.api_key}")])
    if kind == "jwt":
        return Payloads([_request(f"Bearer {access_token(http, creds, bound=False)}")])
    token = access_token(http, creds, bound=True)
    started = time.perf_counter()
    proofs = [creds.dpop.proof("GET", ME_PATH, token) for _ in range(count)]
    spent = time.perf_counter() - started
    return Payloads([_request(f"DPoP {token}", p) for p in proofs], spent, count)


def check(http: httpx.Client, creds: Credentials) -> None:
    """Each credential answers 200 on /me once, before anything is measured."""
    for kind in KINDS:
        request = payloads(kind, http, creds, 1).requests[0]
        head = request.decode().split("\r\n")[1:-2]
        headers = dict(line.split(": ", 1) for line in head if line)
        headers.pop("host", None)
        response = http.get(ME_PATH, headers=headers)
        if response.status_code != 200:
            raise _fail(f"/me with {kind}", response)


# -- the run -----------------------------------------------------------------------------------


@dataclass
class Row:
    kind: str
    peak: Load | None = None
    fixed: Load | None = None
    proof_seconds: float = 0.0
    proofs: int = 0


def _bad(load: Load) -> int:
    return sum(n for status, n in load.statuses.items() if status != 200) + load.errors


def _closed(port: int, requests: list[bytes], concurrency: int, seconds: float) -> Load:
    job = {"mode": "closed", "port": port, "payloads": requests}
    return run_client(job | {"concurrency": concurrency, "seconds": seconds})


def _needed(rate: float, seconds: float) -> int:
    return math.ceil(rate * seconds * PROOF_MARGIN) + 500


def measure(args: argparse.Namespace, url: str, folder: Path) -> bool:
    with psycopg.connect(conninfo(url)) as conn:
        first = conn.execute("SELECT id FROM organizations ORDER BY id LIMIT 1").fetchone()
    assert first is not None
    org = first[0]
    key = api_key(org)[1]
    values: dict[str, Any] = {
        "log_level": "info",
        "log_format": "json",
        "redis_url": args.redis or None,
        "api_key_rate_limit": args.rate_limit,
        "org_rate_limit": args.rate_limit,
    }
    if "access_token_seconds" in Settings.model_fields:
        values["access_token_seconds"] = 3600  # the tokens outlive the run
    if "dpop_require_nonce" in Settings.model_fields:
        values["dpop_require_nonce"] = False
    settings = bench_settings(url, folder / "app", **values)
    print(
        f"  Redis: {args.redis or 'none (in-memory limits and replay cache)'}; "
        f"load: asyncio client, concurrency {args.concurrency}, {args.duration:g}s per row",
        flush=True,
    )
    rows = {kind: Row(kind) for kind in KINDS}
    with (
        server("me", settings, folder / "app.log") as app,
        httpx.Client(base_url=f"http://127.0.0.1:{app.port}", timeout=30) as http,
    ):
        port = app.port
        creds = create_client(http, key, settings.base_url)
        check(http, creds)
        print(f"  peak, closed loop at concurrency {args.concurrency}, best of {args.rounds}:")
        expected = 0.0  # the DPoP run's proofs are sized from the JWT run's rate
        for _ in range(args.rounds):
            for kind in KINDS:
                rate = max(expected, 2000.0)
                warm = payloads(kind, http, creds, _needed(rate, args.warmup))
                _closed(port, warm.requests, args.concurrency, args.warmup)
                made = payloads(kind, http, creds, _needed(rate, args.duration))
                load = _closed(port, made.requests, args.concurrency, args.duration)
                row = rows[kind]
                if row.peak is None or load.rps() > row.peak.rps():
                    row.peak = load
                row.proof_seconds += made.proof_seconds
                row.proofs += made.proofs
                if kind == "jwt":
                    expected = max(expected, load.rps())
                print(f"    round: {kind:<8} {load.rps():9.1f} req/s", flush=True)
        peaks = {kind: row.peak for kind, row in rows.items()}
        assert all(peaks.values())
        rate = min(load.rps() for load in peaks.values() if load is not None) / 2
        for kind in KINDS:
            count = max(1, round(rate * args.duration))
            made = payloads(kind, http, creds, count)
            job = {"mode": "open", "port": port, "payloads": made.requests, "rate": rate}
            rows[kind].fixed = run_client(job | {"count": count, "connections": args.connections})
    return report(rows, rate, args)


def report(rows: dict[str, Row], rate: float, args: argparse.Namespace) -> bool:
    base = rows["api-key"].peak
    assert base is not None
    print(
        f"  {'credential':<10} {'req/s':>9} {'of key':>7}  {'p50 ms':>7} {'p99 ms':>7}  "
        f"{'non-200':>7}"
    )
    for row in rows.values():
        load = row.peak
        assert load is not None
        print(
            f"  {row.kind:<10} {load.rps():9.1f} {load.rps() / base.rps():6.2f}x  "
            f"{load.ms(50):7.2f} {load.ms(99):7.2f}  {_bad(load):7d}",
            flush=True,
        )
    print(
        f"  fixed offered load, open loop ({args.connections} connections), half the slowest "
        f"peak ({rate:.1f} req/s); latency from each request's due time:"
    )
    print(
        f"  {'credential':<10} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'p99/key':>8}  "
        f"{'non-200':>7}  {'late ms':>7}"
    )
    key_fixed = rows["api-key"].fixed
    assert key_fixed is not None
    for row in rows.values():
        load = row.fixed
        assert load is not None
        print(
            f"  {row.kind:<10} {load.ms(50):7.2f} {load.ms(95):7.2f} {load.ms(99):7.2f} "
            f"{load.ms(99) / key_fixed.ms(99):7.2f}x  {_bad(load):7d}  {load.late * 1e3:7.1f}",
            flush=True,
        )
    dpop = rows["dpop"]
    if dpop.proofs:
        per_proof = dpop.proof_seconds / dpop.proofs
        print(
            f"  client side, not in the figures above: one DPoP proof (ES256) takes "
            f"{per_proof * 1e6:.0f} us to make ({1 / per_proof:,.0f} proofs/s on one core)"
        )
    clean = all(
        _bad(load) == 0
        for row in rows.values()
        for load in (row.peak, row.fixed)
        if load is not None
    )
    if not clean:
        print("  ERRORS: some answers were not 200 (see the non-200 columns)")
    return clean


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks auth_tokens",
        description="GET /api/v1/me with an API key, a JWT bearer token and a DPoP-bound token "
        "(a fresh proof per request), against one app process: peak req/s at a fixed "
        "concurrency as ratios to the API key, and latency at a fixed offered load.",
        epilog='Example: make bench ARGS="auth_tokens --quick"',
    )
    parser.add_argument("--quick", action="store_true", help="4 s rows, one round")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per row (15)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before a peak (3)")
    parser.add_argument("--concurrency", type=int, default=32, help="peak: in flight (32)")
    parser.add_argument(
        "--connections", type=int, default=64, help="fixed load: connections at most (64)"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="peak rounds per credential, alternating (2)"
    )
    parser.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379/15",
        help="Redis for rate limits and the DPoP replay cache when it answers ('' for none)",
    )
    parser.add_argument(
        "--rate-limit", default="1000000/minute", help="per key and per organization"
    )
    args = parser.parse_args(argv)
    if args.quick:
        parser.set_defaults(**QUICK)
        args = parser.parse_args(argv)
    if min(args.duration, args.warmup, args.concurrency, args.connections, args.rounds) <= 0:
        parser.error("every number must be positive")
    args.redis = redis_choice(args.redis) or ""
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv or [])
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="sc-bench-auth-") as folder,
        scratch_database(1, Path(folder)) as url,
    ):
        print(f"  scratch database ready in {time.perf_counter() - started:.1f}s", flush=True)
        ok = measure(args, url, Path(folder))
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
