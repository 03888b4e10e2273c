"""The text of a job's last failure, kept for operators: procrastinate records none.

A worker middleware (``WORKER_MIDDLEWARE``, installed by ``JobRunner``) writes the failure of
every attempt to ``procrastinate_jobs.sc_last_error`` (migration 0011) before procrastinate
decides on a retry, so a dead job keeps the error of its last attempt. The text is the
exception's type and message with credentials masked (``kit.redact``) and its length capped:
errors often quote URLs, and URLs may carry passwords.
"""

from __future__ import annotations

from typing import Any

import structlog
from procrastinate import exceptions
from procrastinate.job_context import JobContext
from procrastinate.middleware import AsyncCallNext, WorkerMiddleware

from sprintconnect.kit.redact import redact_credentials

log = structlog.get_logger(__name__)

MAX_ERROR = 2000

_STORE = "UPDATE procrastinate_jobs SET sc_last_error = %(error)s WHERE id = %(job_id)s"


def error_text(exc: BaseException) -> str:
    """``Type: message``, credentials masked, at most ``MAX_ERROR`` characters."""
    message = str(exc)
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return redact_credentials(text)[:MAX_ERROR]


async def record_failure(call_next: AsyncCallNext, context: JobContext, worker: Any) -> Any:
    """Run the job; if it raises, keep the error's text on the job row, then re-raise."""
    try:
        return await call_next()
    except exceptions.JobAborted:
        raise  # an abort is not a failure
    except Exception as exc:
        job_id = context.job.id
        try:
            await worker.app.connector.execute_query_async(
                _STORE, error=error_text(exc), job_id=job_id
            )
        except Exception:  # the database may be what failed: the job's outcome still counts
            log.warning("jobs.last_error_not_stored", job_id=job_id)
        raise


WORKER_MIDDLEWARE: list[WorkerMiddleware] = [record_failure]
