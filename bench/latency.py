"""Percentiles of a latency sample, nearest-rank, the way the figures report them."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted, non-empty sample."""
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    ordered = sorted(samples)
    marks = {"p50": 0.5, "p90": 0.9, "p99": 0.99}
    result = {name: round(percentile(ordered, f), 2) for name, f in marks.items()}
    result["max"] = round(ordered[-1], 2)
    return result
