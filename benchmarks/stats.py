"""Percentiles and a timing loop shared by the benchmarks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def time_calls(call: Callable[[], Awaitable[object]], *, n: int, warmup: int) -> list[float]:
    """Wall-clock seconds of ``n`` awaited calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        await call()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return samples


def summary(label: str, samples: list[float], *, per: int = 1) -> dict[str, float]:
    p50, p99 = percentile(samples, 50) / per, percentile(samples, 99) / per
    mean = statistics.fmean(samples) / per
    print(f"  {label:<44} p50={p50 * 1e6:9.1f}us  p99={p99 * 1e6:9.1f}us  mean={mean * 1e6:9.1f}us")
    return {"p50": p50, "p99": p99, "mean": mean}
