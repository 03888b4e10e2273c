"""HTTP routes for platform operators: background jobs and the dead-letter queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from sprintconnect.db.session import DbSession, RuntimeDep
from sprintconnect.errors import (
    AuthenticationRequired,
    InsufficientScope,
    InvalidCursor,
    RateLimited,
    ValidationFailed,
    problem_responses,
)
from sprintconnect.identity.auth import SuperAdminRequired
from sprintconnect.identity.deps import SuperAdmin, SuperAdminRead
from sprintconnect.jobs.schemas import Job, JobState, JobStats
from sprintconnect.jobs.service import (
    BIGINT_MAX,
    JobAlreadyQueued,
    JobNotDead,
    JobNotFound,
    JobService,
)
from sprintconnect.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter(
    prefix="/api/v1/admin/jobs",
    tags=["Platform: jobs"],
    responses=problem_responses(
        AuthenticationRequired, InsufficientScope, SuperAdminRequired, RateLimited, ValidationFailed
    ),
)
JobId = Annotated[int, Path(ge=1, le=BIGINT_MAX, description="The job's id.")]


@router.get(
    "",
    summary="List background jobs",
    description="Newest first, across every organization (platform operators only). "
    "`state=dead` lists the dead-letter queue: jobs that failed their last attempt. "
    "Pass `next_cursor` back as `cursor` for the next page.",
    responses=problem_responses(InvalidCursor),
)
async def list_jobs(
    principal: SuperAdminRead,
    session: DbSession,
    state: JobState | None = None,
    task: Annotated[
        str | None, Query(min_length=1, max_length=128, description="e.g. sc:discovery.run")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[Job]:
    return await JobService(session, principal).page(
        state=state, task=task, cursor=cursor, limit=limit
    )


@router.get(
    "/stats",
    summary="Count jobs by state",
    description="`dead` is the depth of the dead-letter queue. Reading this also updates "
    "the `sprintconnect_jobs{state}` gauge on `/metrics`.",
)
async def job_stats(principal: SuperAdminRead, session: DbSession) -> JobStats:
    return await JobService(session, principal).stats()


@router.get("/{job_id}", summary="A background job", responses=problem_responses(JobNotFound))
async def get_job(job_id: JobId, principal: SuperAdminRead, session: DbSession) -> Job:
    return await JobService(session, principal).get(job_id)


@router.post(
    "/{job_id}/replay",
    summary="Run a dead job again now",
    description="The job is queued again with the same arguments and runs at once: one more "
    "attempt. Every task is idempotent, so a replay is safe. A job that is not dead is 409.",
    responses=problem_responses(JobNotFound, JobNotDead, JobAlreadyQueued),
)
async def replay_job(job_id: JobId, principal: SuperAdmin, session: DbSession) -> Job:
    return await JobService(session, principal).replay(job_id)


@router.post(
    "/{job_id}/discard",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a dead job",
    description="Deletes the job and its event history. A job that is not dead is 409. "
    "A discovery job's discovery is marked `failed` with reason `job_discarded`, so that "
    "the server can be discovered again.",
    responses=problem_responses(JobNotFound, JobNotDead),
)
async def discard_job(
    job_id: JobId, principal: SuperAdmin, session: DbSession, runtime: RuntimeDep
) -> Response:
    await JobService(session, principal).discard(job_id, runtime.clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)
