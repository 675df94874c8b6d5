"""The benchmarks' one percentile (bench/support/stats.py): both methods, as the reports use them."""

from __future__ import annotations

import math

import pytest

from bench.support.stats import percentile


def test_linear_interpolates_between_the_closest_ranks():
    values = [40.0, 10.0, 30.0, 20.0]
    assert percentile(values, 0.5) == 25.0
    assert percentile(values, 0.99) == pytest.approx(39.7)  # rank 2.97
    assert percentile(values, 1.0) == 40.0


def test_nearest_takes_a_measured_value_at_the_rounded_rank():
    values = [float(v) for v in range(1, 21)]  # 1 .. 20
    assert percentile(values, 0.95, method="nearest") == 19.0  # rank 18.05 -> 18
    assert percentile(values, 0.5, method="nearest") == 11.0  # rank 9.5 -> 10 (half to even)
    assert percentile([3.0], 0.99, method="nearest") == 3.0


def test_no_values_give_nan_with_either_method():
    assert math.isnan(percentile([], 0.5))
    assert math.isnan(percentile([], 0.95, method="nearest"))
