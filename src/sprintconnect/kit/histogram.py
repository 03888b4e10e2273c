"""A fixed, mergeable latency histogram: log-spaced buckets from 1 ms to 60 s.

A histogram is a list of counts, one per bucket. Every histogram uses the same boundaries, so two
are merged by adding their counts element-wise: an hour's histogram stored in a rollup row, a
day's and a year's are all the same shape, and a percentile over any range is read from the sum.

Buckets (``BUCKETS`` holds the boundaries ``b[0] = 1`` to ``b[-1] = 60000``, in ms):

- index 0: below 1 ms;
- index i (1 <= i < len(BUCKETS)): ``b[i-1] <= ms < b[i]``;
- index len(BUCKETS): 60 s and above.

Adjacent boundaries differ by a factor ``r`` of about 1.2, and a quantile reads as the geometric
middle of its bucket, so an estimate between 1 ms and 60 s is within ``sqrt(r) - 1`` (about 9.5 %)
of the true value. Below 1 ms reads as 0.5 ms and 60 s or more reads as 60 s.

The boundaries are part of the stored data (rollup rows hold counts per bucket): never change
them without migrating the rows.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence

LOWEST_MS = 1.0
HIGHEST_MS = 60_000.0
# 61 steps of a factor 60000 ** (1/61) ~= 1.1977 span 1 ms to 60 s.
STEPS = 61

BUCKETS: tuple[float, ...] = tuple(
    round(LOWEST_MS * (HIGHEST_MS / LOWEST_MS) ** (i / STEPS), 6) for i in range(STEPS + 1)
)
# How many counts a histogram holds: one more than there are boundaries.
SIZE = len(BUCKETS) + 1
# The largest relative error of a quantile read between 1 ms and 60 s.
RELATIVE_ERROR = math.sqrt((HIGHEST_MS / LOWEST_MS) ** (1 / STEPS)) - 1


def bucket_index(ms: float) -> int:
    """The bucket that holds a latency of ``ms`` milliseconds (negative counts as 0)."""
    if math.isnan(ms):
        raise ValueError("a latency cannot be NaN")
    return bisect_right(BUCKETS, ms)


def empty() -> list[int]:
    """A histogram with no observations."""
    return [0] * SIZE


def single(ms: float) -> list[int]:
    """A histogram holding one observation of ``ms``."""
    counts = empty()
    counts[bucket_index(ms)] = 1
    return counts


def merge(a: Sequence[int], b: Sequence[int]) -> list[int]:
    """The element-wise sum of two histograms (both of ``SIZE`` counts)."""
    if len(a) != SIZE or len(b) != SIZE:
        raise ValueError(f"a histogram holds {SIZE} counts, not {len(a)} and {len(b)}")
    return [x + y for x, y in zip(a, b, strict=True)]


def merge_all(histograms: Sequence[Sequence[int]]) -> list[int]:
    """The sum of any number of histograms (``empty()`` for none)."""
    total = empty()
    for counts in histograms:
        total = merge(total, counts)
    return total


def _representative(index: int) -> float:
    if index == 0:
        return LOWEST_MS / 2
    if index >= len(BUCKETS):
        return HIGHEST_MS
    return math.sqrt(BUCKETS[index - 1] * BUCKETS[index])


def rank(total: int, q: float) -> int:
    """The 1-based rank of the ``q`` quantile among ``total`` sorted observations (nearest
    rank: the smallest value with at least a fraction ``q`` of the observations at or below)."""
    return min(total, max(1, math.ceil(q * total)))


def quantile(counts: Sequence[int], q: float) -> float:
    """The ``q`` quantile (0 <= q <= 1) of a histogram, in ms.

    Raises ``ValueError`` for a histogram with no observations: callers show "no data" instead.
    """
    if not 0.0 <= q <= 1.0:
        raise ValueError("q must be between 0 and 1")
    if len(counts) != SIZE:
        raise ValueError(f"a histogram holds {SIZE} counts, not {len(counts)}")
    total = sum(counts)
    if total <= 0:
        raise ValueError("no observations")
    wanted = rank(total, q)
    seen = 0
    for index, count in enumerate(counts):
        seen += count
        if seen >= wanted:
            return _representative(index)
    raise AssertionError("unreachable: the ranks sum to the total")  # pragma: no cover
