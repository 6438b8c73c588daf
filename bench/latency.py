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


STAGES = ("due", "ingest wrote", "inbound read", "triage wrote", "request read", "assign wrote")
"""A lead's moments on its way, each on the wall clock, in order, ending where the assignment
is read (the next stage after the last one named here)."""

HOPS = (
    "ingest: request due -> leads.inbound CreateTime",
    "ingest write: leads.inbound CreateTime -> readable",
    "triage pick-up: leads.inbound readable -> routing.requests CreateTime",
    "triage commit: routing.requests CreateTime -> readable",
    "assign pick-up: routing.requests readable -> leads.assignments CreateTime",
    "assign commit: leads.assignments CreateTime -> readable",
)
"""The span between each stage and the next, named by what fills it."""


def hop_latencies(journeys: Sequence[Sequence[float]]) -> dict[str, list[float]]:
    """Per hop, the ms each lead spent in it; a journey is its stage times (s) plus the moment
    its assignment was read, so `len(STAGES) + 1` values. "Readable" is when this benchmark's
    read_committed consumer got the record, so a pick-up hop starts from that reading, not from
    the service's own: the two share the broker's commit, not the fetch."""
    hops: dict[str, list[float]] = {name: [] for name in HOPS}
    for journey in journeys:
        for name, start, end in zip(HOPS, journey, journey[1:], strict=False):
            hops[name].append((end - start) * 1000)
    return hops
