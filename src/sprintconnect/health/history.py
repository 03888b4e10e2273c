"""A server's health over a time range: timeline, uptime, latency percentiles, chart buckets.

Everything here is read from the hourly rollups and the transitions, never from raw checks: a
year's history costs at most 24 x 366 rollup rows, whatever the check interval. The price is
resolution: a range is widened to whole hours (``from`` down, ``to`` up) and the answer says
which hours it covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.errors import InvalidCursor, ValidationFailed
from sprintconnect.health.config import min_interval, thresholds
from sprintconnect.health.repository import HealthRepository, RollupSum
from sprintconnect.health.schemas import (
    EffectiveThresholds,
    HealthDetails,
    HealthHistory,
    HistoryBucket,
    LatencyStats,
    TransitionOut,
)
from sprintconnect.identity.principal import Principal
from sprintconnect.kit import histogram
from sprintconnect.kit.pagination import decode_key, encode_key
from sprintconnect.mcp_server.failures import GUIDANCE
from sprintconnect.mcp_server.service import Deps, McpServerService
from sprintconnect.models import Organization, ServerHealth
from sprintconnect.organization.repository import OrganizationRepository

Bucket = Literal["hour", "day"]

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
DEFAULT_RANGE = timedelta(hours=24)
# The longest range: the rollup retention's default (a longer one would read nothing more).
MAX_RANGE = timedelta(days=400)
# Automatic buckets are hours up to a week (at most 168 points), days beyond.
AUTO_HOURS_UP_TO = timedelta(days=7)
# Asked-for hour buckets are allowed up to a month (744 points): a chart needs no more.
MAX_HOURLY_RANGE = timedelta(days=31)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Range:
    """A range of whole hours, and the chart's bucket size."""

    start: datetime
    end: datetime
    bucket: Bucket


@dataclass(frozen=True)
class Totals:
    """What rollups add up to over some hours: counts, latency sum and histogram."""

    checks: int
    failures: int
    latency_sum_ms: float
    latency: list[int]

    @property
    def uptime_percent(self) -> float | None:
        if self.checks <= 0:
            return None
        return round(100.0 * (self.checks - self.failures) / self.checks, 3)

    def percentile(self, q: float) -> float | None:
        if self.checks <= 0 or sum(self.latency) <= 0:
            return None
        return round(histogram.quantile(self.latency, q), 2)

    @property
    def mean_ms(self) -> float | None:
        return round(self.latency_sum_ms / self.checks, 2) if self.checks > 0 else None


EMPTY = Totals(0, 0, 0.0, histogram.empty())


def add(a: Totals, b: Totals) -> Totals:
    return Totals(
        a.checks + b.checks,
        a.failures + b.failures,
        a.latency_sum_ms + b.latency_sum_ms,
        histogram.merge(a.latency, b.latency),
    )


def _utc(moment: datetime) -> datetime:
    """Aware datetimes as UTC; a time without an offset is read as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _bounded(moment: datetime, name: str) -> datetime:
    """``moment`` in UTC, or a 422: times outside 1970 to 9000 cannot hold history, and near
    the ends of Python's calendar the rounding below would overflow."""
    try:
        value = _utc(moment)
    except OverflowError:
        value = None
    if value is None or not EARLIEST <= value < LATEST:
        raise ValidationFailed(
            f"'{name}' must be between {EARLIEST.year} and {LATEST.year}.", loc=("query", name)
        )
    return value


def floor_hour(moment: datetime) -> datetime:
    return _utc(moment).replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime) -> datetime:
    floored = floor_hour(moment)
    return floored if floored == _utc(moment) else floored + HOUR


def floor_bucket(moment: datetime, bucket: Bucket) -> datetime:
    hour = floor_hour(moment)
    return hour.replace(hour=0) if bucket == "day" else hour


def resolve_range(
    start: datetime | None, end: datetime | None, bucket: Bucket | None, *, now: datetime
) -> Range:
    """The whole hours a request covers (default: the last 24 hours), or a 422 naming the
    parameter that is wrong: ``from`` not before ``to``, a range over 400 days, or hour
    buckets over more than 31 days."""
    end = _bounded(end, "to") if end is not None else _utc(now)
    start = _bounded(start, "from") if start is not None else end - DEFAULT_RANGE
    if start >= end:
        raise ValidationFailed("'from' must be earlier than 'to'.", loc=("query", "from"))
    if end - start > MAX_RANGE:
        raise ValidationFailed(
            f"A range may span at most {MAX_RANGE.days} days.",
            loc=("query", "to"),
            max_days=MAX_RANGE.days,
        )
    start, end = floor_hour(start), ceil_hour(end)
    if bucket is None:
        bucket = "hour" if end - start <= AUTO_HOURS_UP_TO else "day"
    elif bucket == "hour" and end - start > MAX_HOURLY_RANGE:
        raise ValidationFailed(
            f"Hour buckets cover at most {MAX_HOURLY_RANGE.days} days; use bucket=day.",
            loc=("query", "bucket"),
            max_days=MAX_HOURLY_RANGE.days,
        )
    return Range(start, end, bucket)


def bucket_starts(span: Range) -> list[datetime]:
    """The start of every chart bucket that overlaps the range, oldest first (day buckets
    are UTC days; the first and last may be cut by the range)."""
    step = DAY if span.bucket == "day" else HOUR
    starts: list[datetime] = []
    moment = floor_bucket(span.start, span.bucket)
    while moment < span.end:
        starts.append(moment)
        moment += step
    return starts


def _totals(row: RollupSum) -> Totals:
    return Totals(row.checks, row.failures, row.latency_sum_ms, list(row.latency_buckets))


def chart(span: Range, sums: list[RollupSum]) -> tuple[Totals, list[HistoryBucket]]:
    """The whole range's totals and one point per bucket (empty buckets included)."""
    by_start = {_utc(row.start): _totals(row) for row in sums}
    step = DAY if span.bucket == "day" else HOUR
    overall = EMPTY
    points = []
    for start in bucket_starts(span):
        totals = by_start.get(start, EMPTY)
        overall = add(overall, totals)
        points.append(
            HistoryBucket(
                start=max(start, span.start),
                end=min(start + step, span.end),
                checks=totals.checks,
                failures=totals.failures,
                uptime_percent=totals.uptime_percent,
                p50_ms=totals.percentile(0.5),
                p95_ms=totals.percentile(0.95),
                p99_ms=totals.percentile(0.99),
            )
        )
    return overall, points


def latency_stats(totals: Totals) -> LatencyStats | None:
    p50, p95, p99 = (totals.percentile(q) for q in (0.5, 0.95, 0.99))
    mean = totals.mean_ms
    if p50 is None or p95 is None or p99 is None or mean is None:
        return None
    return LatencyStats(p50=p50, p95=p95, p99=p99, mean=mean)


def timeline_cursor(transition: TransitionOut) -> str:
    return encode_key(transition.at.isoformat(), transition.id)


def parse_timeline_cursor(cursor: str) -> tuple[datetime, int]:
    at, row_id = decode_key(cursor, 2)
    if not isinstance(at, str) or not isinstance(row_id, int) or isinstance(row_id, bool):
        raise InvalidCursor()
    try:
        moment = datetime.fromisoformat(at)
    except ValueError as exc:
        raise InvalidCursor() from exc
    if moment.tzinfo is None or not 1 <= row_id <= 2**63 - 1:
        raise InvalidCursor()
    return moment, row_id


def effective_thresholds(org: Organization, row: ServerHealth, minimum: int) -> EffectiveThresholds:
    applied = thresholds(org, row)
    overridden: list[Literal["failure_threshold", "degraded_after_seconds"]] = []
    if row.failure_threshold is not None:
        overridden.append("failure_threshold")
    if row.degraded_after_seconds is not None:
        overridden.append("degraded_after_seconds")
    return EffectiveThresholds(
        failure_threshold=applied.failures,
        degraded_after_seconds=applied.seconds,
        overridden=overridden,
        min_interval_seconds=minimum,
    )


class HealthReader:
    """What a caller with ``health:read`` on a server may read of its health."""

    def __init__(self, session: AsyncSession, principal: Principal, deps: Deps) -> None:
        self.session = session
        self.principal = principal
        self.org_id = principal.org_id
        self.deps = deps
        self.repo = HealthRepository(session)

    async def _row(self, server_id: UUID) -> ServerHealth:
        # A server of another organization, or one the caller may not read, is a 404.
        server = await McpServerService(self.session, self.principal, self.deps).get(
            server_id, action="health:read"
        )
        row = await self.repo.get(self.org_id, server.id)
        if row is None:  # the trigger creates it with the server; never expected
            row = ServerHealth(
                server_id=server.id,
                org_id=self.org_id,
                enabled=True,
                check_type="ping",
                interval_seconds=300,
                status="unknown",
                failure_streak=0,
            )
        return row

    async def details(self, server_id: UUID) -> HealthDetails:
        row = await self._row(server_id)
        org = await OrganizationRepository(self.session).get(self.org_id)
        assert org is not None  # the caller's own organization is always visible to it
        error_class = row.last_error_class
        return HealthDetails(
            server_id=row.server_id,
            status=row.status,
            status_changed_at=row.status_changed_at,
            last_check_at=row.last_check_at,
            response_ms=row.last_response_ms,
            error_class=error_class,
            error=row.last_error,
            guidance=GUIDANCE.get(error_class) if error_class else None,
            failure_streak=row.failure_streak,
            unhealthy_since=row.unhealthy_since,
            next_check_at=row.next_check_at if row.enabled else None,
            interval_seconds=row.interval_seconds,
            check_type=row.check_type,
            enabled=row.enabled,
            thresholds=effective_thresholds(org, row, min_interval(org, self.deps.settings)),
        )

    async def history(
        self,
        server_id: UUID,
        *,
        start: datetime | None,
        end: datetime | None,
        bucket: Bucket | None,
        cursor: str | None,
        limit: int,
    ) -> HealthHistory:
        span = resolve_range(start, end, bucket, now=self.deps.clock.now())
        after = parse_timeline_cursor(cursor) if cursor else None
        row = await self._row(server_id)
        sums = await self.repo.rollup_sums(
            self.org_id, row.server_id, start=span.start, end=span.end, unit=span.bucket
        )
        overall, points = chart(span, sums)
        before = await self.repo.status_before(self.org_id, row.server_id, span.start)
        rows = await self.repo.transitions(
            self.org_id,
            row.server_id,
            start=span.start,
            end=span.end,
            after=after,
            limit=limit + 1,
        )
        timeline = [TransitionOut.model_validate(t, from_attributes=True) for t in rows[:limit]]
        more = len(rows) > limit
        return HealthHistory(
            server_id=row.server_id,
            from_=span.start,
            to=span.end,
            bucket=span.bucket,
            status_at_from=before or "unknown",
            timeline=timeline,
            next_cursor=timeline_cursor(timeline[-1]) if more and timeline else None,
            checks=overall.checks,
            failures=overall.failures,
            uptime_percent=overall.uptime_percent,
            response_ms=latency_stats(overall),
            buckets=points,
        )
