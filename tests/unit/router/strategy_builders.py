"""Small builders for the router's unit tests."""

from __future__ import annotations

from services.router.fairness import Availability
from services.router.strategies import Contender

EL, ABSENT, PASSED = Availability.ELIGIBLE, Availability.ABSENT, Availability.PASSED_OVER


def contenders(
    weights: dict[str, int], availability: dict[str, Availability] | None = None
) -> list[Contender]:
    """One contender per rep, eligible unless `availability` says otherwise."""
    marks = availability or {}
    return [Contender(rep, w, marks.get(rep, EL), day="2026-11-23") for rep, w in weights.items()]
