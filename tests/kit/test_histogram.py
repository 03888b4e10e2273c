"""The latency histogram: fixed buckets, mergeable by addition, quantiles within ~10 %."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sprintconnect.kit import histogram
from sprintconnect.kit.histogram import BUCKETS, SIZE, bucket_index, merge, quantile

# Latencies the histogram reads to within its relative error.
in_range = st.floats(min_value=1.0, max_value=59_999.0, allow_nan=False)
latencies = st.lists(st.floats(min_value=0.0, max_value=200_000.0), min_size=1, max_size=200)
quantiles = st.floats(min_value=0.0, max_value=1.0)


def _histogram(values: list[float]) -> list[int]:
    counts = histogram.empty()
    for value in values:
        counts[bucket_index(value)] += 1
    return counts


def _true_quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[histogram.rank(len(ordered), q) - 1]


def test_boundaries_span_one_millisecond_to_a_minute_with_a_fixed_ratio() -> None:
    assert BUCKETS[0] == 1.0
    assert BUCKETS[-1] == 60_000.0
    ratios = [b / a for a, b in itertools.pairwise(BUCKETS)]
    assert max(ratios) - min(ratios) < 1e-5
    assert histogram.RELATIVE_ERROR < 0.1
    assert len(BUCKETS) + 1 == SIZE


def test_edges_and_out_of_range_values() -> None:
    assert bucket_index(0.0) == 0
    assert bucket_index(-3.0) == 0
    assert bucket_index(0.999) == 0
    assert bucket_index(1.0) == 1
    assert bucket_index(60_000.0) == len(BUCKETS)
    assert bucket_index(math.inf) == len(BUCKETS)
    with pytest.raises(ValueError, match="NaN"):
        bucket_index(math.nan)
    assert quantile(histogram.single(0.2), 0.5) == 0.5
    assert quantile(histogram.single(90_000.0), 0.99) == 60_000.0


def test_quantile_refuses_empty_histograms_and_bad_input() -> None:
    with pytest.raises(ValueError, match="no observations"):
        quantile(histogram.empty(), 0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        quantile(histogram.single(5.0), 1.5)
    with pytest.raises(ValueError, match="counts"):
        quantile([1, 2, 3], 0.5)
    with pytest.raises(ValueError, match="counts"):
        merge([1], histogram.empty())


@given(st.floats(min_value=-1e9, max_value=1e9))
def test_every_value_falls_inside_its_bucket(ms: float) -> None:
    index = bucket_index(ms)
    assert 0 <= index < SIZE
    if index > 0:
        assert BUCKETS[index - 1] <= ms
    if index < len(BUCKETS):
        assert ms < BUCKETS[index]


@given(st.lists(in_range, min_size=1, max_size=300), quantiles)
def test_quantiles_are_within_ten_percent_of_the_exact_value(values: list[float], q: float) -> None:
    estimate = quantile(_histogram(values), q)
    exact = _true_quantile(values, q)
    assert abs(estimate - exact) <= histogram.RELATIVE_ERROR * exact + 1e-9


@given(latencies, latencies)
def test_merge_equals_the_histogram_of_the_union(a: list[float], b: list[float]) -> None:
    assert merge(_histogram(a), _histogram(b)) == _histogram(a + b)
    assert merge(_histogram(a), _histogram(b)) == merge(_histogram(b), _histogram(a))


@given(st.lists(latencies, min_size=1, max_size=6), quantiles)
def test_merging_in_any_grouping_gives_the_same_quantiles(
    groups: list[list[float]], q: float
) -> None:
    merged = histogram.merge_all([_histogram(group) for group in groups])
    everything = [value for group in groups for value in group]
    assert sum(merged) == len(everything)
    assert quantile(merged, q) == quantile(_histogram(everything), q)


@given(latencies)
def test_quantiles_never_decrease_with_q(values: list[float]) -> None:
    counts = _histogram(values)
    estimates = [quantile(counts, q / 20) for q in range(21)]
    assert estimates == sorted(estimates)
