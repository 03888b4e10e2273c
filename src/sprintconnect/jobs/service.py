"""The dead-letter queue and job counts, as platform operators see and act on them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, get_args
from uuid import UUID

import structlog
from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.discovery.runner import abandon_discovery
from sprintconnect.errors import Conflict, InvalidCursor, NotFound
from sprintconnect.identity.principal import Actor, Principal
from sprintconnect.jobs.outbox import ROUTES
from sprintconnect.jobs.repository import JobRepository, JobRow, QueueingLockTaken
from sprintconnect.jobs.schemas import Job, JobEvent, JobState, JobStats
from sprintconnect.kit.pagination import Page, decode_key, encode_key
from sprintconnect.kit.redact import REDACTED
from sprintconnect.kit.scrub import is_secret_name
from sprintconnect.organization.repository import OrganizationRepository

log = structlog.get_logger(__name__)

# procrastinate's statuses in our words: a job that failed its last attempt is dead-lettered.
STATE_OF_STATUS: dict[str, JobState] = {
    "todo": "queued",
    "doing": "running",
    "succeeded": "succeeded",
    "failed": "dead",
    "cancelled": "cancelled",
    "aborting": "running",  # unused since procrastinate 3.0: still running, abort asked
    "aborted": "aborted",
}
BIGINT_MAX = 2**63 - 1
DISCOVERY_TASK = ROUTES["discovery.requested"].task

JOBS = Gauge("sprintconnect_jobs", "Jobs in each state, as of the last stats read", ["state"])


def statuses_of(state: JobState) -> list[str]:
    return [status for status, s in STATE_OF_STATUS.items() if s == state]


def _safe_args(args: dict[str, Any]) -> dict[str, Any]:
    # Our tasks' arguments are identifiers. Should one ever carry something secret-looking by
    # mistake, its value stays out of the answer all the same.
    return {name: REDACTED if is_secret_name(name) else value for name, value in args.items()}


def to_job(row: JobRow) -> Job:
    return Job(
        id=row.id,
        task=row.task_name,
        queue=row.queue_name,
        state=STATE_OF_STATUS.get(row.status, "running"),
        attempts=row.attempts,
        scheduled_at=row.scheduled_at,
        lock=row.lock,
        args=_safe_args(row.args or {}),
        last_event=(
            JobEvent(type=row.last_event_type, at=row.last_event_at)
            if row.last_event_type
            else None
        ),
        last_error=row.last_error,
    )


class JobNotFound(NotFound):
    slug = "job-not-found"
    title = "Job not found"


class JobNotDead(Conflict):
    slug = "job-not-dead"
    title = "Only a dead job can be replayed or discarded"


class JobAlreadyQueued(Conflict):
    slug = "job-already-queued"
    title = "The same work is already queued"


class JobService:
    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self.session = session
        self.principal = principal
        self.jobs = JobRepository(session)

    async def page(
        self, *, state: JobState | None, task: str | None, cursor: str | None, limit: int
    ) -> Page[Job]:
        before = None
        if cursor is not None:
            (value,) = decode_key(cursor, 1)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise InvalidCursor()
            before = min(value, BIGINT_MAX)
        rows = await self.jobs.page(
            statuses=statuses_of(state) if state else None,
            task=task,
            before=before,
            limit=limit + 1,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(
            items=[to_job(r) for r in rows],
            next_cursor=encode_key(rows[-1].id) if more else None,
        )

    async def get(self, job_id: int) -> Job:
        row = await self.jobs.get(job_id)
        if row is None:
            raise JobNotFound(f"No job has the id {job_id}.")
        return to_job(row)

    async def _lock_dead(self, job_id: int) -> str:
        """Lock a dead job's row; its queue. Anything else is a 404 or a 409."""
        found = await self.jobs.lock_status(job_id)
        if found is None:
            raise JobNotFound(f"No job has the id {job_id}.")
        status, queue = found
        if status != "failed":
            state = STATE_OF_STATUS.get(status, status)
            raise JobNotDead(f"Job {job_id} is {state}; only dead jobs can be changed.")
        return queue

    async def replay(self, job_id: int) -> Job:
        """Queue a dead job to run again now: one more attempt, the same arguments."""
        queue = await self._lock_dead(job_id)
        try:
            await self.jobs.retry_now(job_id, queue)
        except QueueingLockTaken as exc:
            raise JobAlreadyQueued(
                f"Job {job_id} cannot be queued again: a job for the same work already waits."
            ) from exc
        job = await self.get(job_id)
        log.info("jobs.replayed", job_id=job_id, task=job.task, by=self._operator())
        await self._audit(audit.AuditTag.JOB_REPLAYED, job)
        return job

    async def discard(self, job_id: int, now: datetime) -> None:
        """Remove a dead job and its history for good.

        A discovery job's discovery is failed with it (reason ``job_discarded``): nothing
        would run it any more, and while it looked queued the server could not be
        discovered again.
        """
        await self._lock_dead(job_id)
        job = await self.get(job_id)
        await self.jobs.delete(job_id)
        log.info("jobs.discarded", job_id=job_id, by=self._operator())
        await self._audit(audit.AuditTag.JOB_DISCARDED, job)
        if job.task == DISCOVERY_TASK:
            await self._abandon_discovery(job, now)

    async def _abandon_discovery(self, job: Job, now: datetime) -> None:
        org_id = await self._job_org(job)
        try:
            discovery_id = UUID(str(job.args.get("discovery_id")))
        except ValueError:
            return
        if org_id is None:
            return
        await bind_tenant(self.session, org_id)
        try:
            await abandon_discovery(self.session, org_id, discovery_id, now=now)
        finally:
            await bind_tenant(self.session, self.principal.org_id)

    async def _audit(self, tag: audit.AuditTag, job: Job) -> None:
        """The platform's log always; the job's organization's log too when it has one.

        The entry names the operator (a user: super admins always are one) and the key used.
        """
        org_id = await self._job_org(job)
        operator = self._operator()
        actor = Actor("user", operator, operator, super_admin=True)
        target = audit.Target("job", str(job.id))
        details: dict[str, Any] = {
            "task": job.task,
            "queue": job.queue,
            "org_id": str(org_id) if org_id else None,
            "api_key_id": str(self.principal.api_key_id or ""),
            "operator_org_id": str(self.principal.org_id),
        }
        await audit.record_platform(self.session, tag, actor=actor, target=target, details=details)
        if org_id is None:
            return
        await bind_tenant(self.session, org_id)
        try:
            await audit.record(
                self.session, tag, org_id=org_id, actor=actor, target=target, details=details
            )
        finally:
            await bind_tenant(self.session, self.principal.org_id)

    async def _job_org(self, job: Job) -> UUID | None:
        """The organization a job works for, if its arguments name one that exists."""
        try:
            org_id = UUID(str(job.args.get("org_id")))
        except ValueError:
            return None
        await bind_tenant(self.session, org_id)
        try:
            found = await OrganizationRepository(self.session).get(org_id)
        finally:
            await bind_tenant(self.session, self.principal.org_id)
        return org_id if found is not None else None

    async def stats(self) -> JobStats:
        counts: dict[str, int] = {}
        for status, count in (await self.jobs.count_by_status()).items():
            state = STATE_OF_STATUS.get(status, "running")
            counts[state] = counts.get(state, 0) + count
        stats = JobStats(**counts, dead_by_task=await self.jobs.count_failed_by_task())
        for state in get_args(JobState):
            JOBS.labels(state=state).set(getattr(stats, state))
        return stats

    def _operator(self) -> str:
        return str(self.principal.user_id or self.principal.actor.id or "")
