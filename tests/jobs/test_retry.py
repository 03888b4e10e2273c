"""Exponential backoff with jitter, and the attempt at which a job is given up (dead)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from procrastinate.jobs import Job
from prometheus_client import REGISTRY

from sprintconnect.jobs.retry import JitteredBackoff


def job(attempts: int, task: str = "tests.backoff") -> Job:
    return Job(id=1, queue="q", lock=None, queueing_lock=None, task_name=task, attempts=attempts)


def dead(task: str) -> float:
    return REGISTRY.get_sample_value("sprintconnect_jobs_dead_total", {"task": task}) or 0.0


def test_delays_double_within_the_jitter_band_until_the_cap() -> None:
    strategy = JitteredBackoff(max_attempts=20, base_seconds=2, max_seconds=300)
    random.seed(1234)
    for attempt in range(12):
        ceiling = min(300.0, 2 * 2**attempt)
        samples = [strategy.delay(attempt) for _ in range(200)]
        assert all(0.5 * ceiling <= s < ceiling for s in samples), (attempt, ceiling)
        # Jitter: not one fixed value (the band is wide enough to tell).
        assert len({round(s, 6) for s in samples}) > 100
    assert [min(300.0, 2 * 2**n) for n in range(9)] == [2, 4, 8, 16, 32, 64, 128, 256, 300]


@pytest.mark.parametrize("factor", [0.5, 0.999999])
def test_the_band_edges(monkeypatch: pytest.MonkeyPatch, factor: float) -> None:
    """The extreme jitter factors map onto half the ceiling and just under it."""
    monkeypatch.setattr(random, "uniform", lambda low, high: factor)
    strategy = JitteredBackoff(max_attempts=10, base_seconds=1.5, max_seconds=40)
    delays = [strategy.delay(n) for n in range(8)]
    ceilings = [min(40.0, 1.5 * 2**n) for n in range(8)]
    assert delays == pytest.approx([factor * c for c in ceilings])
    # Exponential growth until capped: each delay is twice the previous one.
    assert delays[1] == pytest.approx(2 * delays[0])
    assert delays[4] == pytest.approx(16 * delays[0])
    assert delays[-1] == pytest.approx(factor * 40)


def test_retries_stop_at_max_attempts_and_count_the_dead() -> None:
    strategy = JitteredBackoff(max_attempts=4, base_seconds=2, max_seconds=300)
    task = "tests.backoff.dead"
    before = dead(task)
    waits = []
    for attempts in range(3):  # the 1st, 2nd and 3rd runs failed: retry
        decision = strategy.get_retry_decision(exception=RuntimeError(), job=job(attempts, task))
        assert decision is not None
        assert decision.retry_at is not None
        waits.append(decision.retry_at)
    assert waits == sorted(waits)
    assert dead(task) == before
    # The 4th run failed: no retry, the job stays failed (dead) and is counted.
    assert strategy.get_retry_decision(exception=RuntimeError(), job=job(3, task)) is None
    assert dead(task) == before + 1


def test_retry_waits_are_whole_seconds_of_at_least_one() -> None:
    strategy = JitteredBackoff(max_attempts=5, base_seconds=0.01, max_seconds=0.02)
    decision = strategy.get_retry_decision(exception=RuntimeError(), job=job(0))
    assert decision is not None
    assert decision.retry_at is not None
    wait = (decision.retry_at - datetime.now(UTC)).total_seconds()
    assert 0 < wait <= 1
