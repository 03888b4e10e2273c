"""Exponential backoff with jitter, and the count of jobs that ran out of attempts."""

from __future__ import annotations

import random

from procrastinate import BaseRetryStrategy, RetryDecision
from procrastinate.jobs import Job
from prometheus_client import Counter

DEAD_JOBS = Counter(
    "sprintconnect_jobs_dead_total", "Jobs that failed on their last attempt", ["task"]
)


class JitteredBackoff(BaseRetryStrategy):
    """Waits ``base * 2**attempt`` seconds, capped, scaled by a random factor in [0.5, 1).

    The jitter spreads retries of jobs that failed together (a database blip) so they do not
    come back together. After ``max_attempts`` the job stays failed: the dead-letter state.
    """

    def __init__(self, *, max_attempts: int, base_seconds: float, max_seconds: float) -> None:
        self.max_attempts = max_attempts
        self.base_seconds = base_seconds
        self.max_seconds = max_seconds

    def delay(self, attempts: int) -> float:
        ceiling = min(self.max_seconds, self.base_seconds * 2**attempts)
        return float(ceiling * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not secrecy

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if job.attempts + 1 >= self.max_attempts:
            DEAD_JOBS.labels(task=job.task_name).inc()
            return None
        return RetryDecision(retry_in={"seconds": max(1, round(self.delay(job.attempts)))})
