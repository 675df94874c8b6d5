"""The percentiles the benchmarks report: one definition, so figures of different runs compare."""

from __future__ import annotations

from typing import Literal


def percentile(values: list[float], q: float, *, method: Literal["linear", "nearest"] = "linear") -> float:
    """The ``q`` quantile (0 to 1) of ``values``; NaN when there are none.

    ``linear`` interpolates between the two closest ranks (numpy's default); ``nearest`` takes the
    value at the rounded rank (always one of the measurements), as the database and pixel benchmarks
    have always reported it."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    if method == "nearest":
        return ordered[min(len(ordered) - 1, round(k))]
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)
