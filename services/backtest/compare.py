"""The comparison of two runs over the same leads: the backtest report's content.

Fed one lead at a time with both runs' `Routing`s, it keeps counts (bounded by pools and reps)
and the leads that moved (bounded by what the candidate changes), never the history itself.

A lead *moves* when its (pool, rep, outcome) differs between the runs. Where the runs part is
the first step that differs, in the order the router takes them:

    rule        triage matched another rule (or none)
    pool        same rule, another pool (continuity or a repeat steered it)
    fallback    the assign chain went through other pools
    eligibility a candidate's verdict differs (the first one, in member order)
    strategy    the same verdicts, another turn (rotation state built up differently)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from services.backtest.pipeline import Routing
from services.leads.events import Assignment, Outcome
from services.leads.routing_config import RoutingConfig

CAP_REASONS = frozenset({"max_open", "daily_cap"})


@dataclass(frozen=True, slots=True)
class Moved:
    lead_id: str
    before: tuple[str, str | None, str]
    after: tuple[str, str | None, str]
    step: str
    """rule, pool, fallback, eligibility or strategy."""
    detail: str


@dataclass
class Tally:
    """One run's counts."""

    leads: int = 0
    duplicates: int = 0
    assigned: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(pool, rep) -> leads assigned."""
    unassigned: int = 0
    fell_back: int = 0
    cap_hits: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(rep, reason) -> decisions that skipped the rep for a capacity cap."""

    def add(self, routing: Routing) -> None:
        self.leads += 1
        a = routing.assignment
        if a is None:
            self.duplicates += 1
            return
        if a.outcome is Outcome.ASSIGNED and a.rep_id is not None:
            self.assigned[(a.pool_id, a.rep_id)] += 1
        elif a.outcome is Outcome.UNASSIGNED:
            self.unassigned += 1
        self.fell_back += len(a.trace.pools_tried) > 1
        for c in a.trace.candidates:
            reason = (c.skip_reason or "").split(":")[0]
            if reason in CAP_REASONS:
                self.cap_hits[(c.rep_id, reason)] += 1

    def pools(self) -> Counter[str]:
        totals: Counter[str] = Counter()
        for (pool, _rep), n in self.assigned.items():
            totals[pool] += n
        return totals


@dataclass(frozen=True, slots=True)
class Share:
    pool: str
    rep: str
    leads: int
    expected: float
    actual: float


def shares(tally: Tally, config: RoutingConfig) -> list[Share]:
    """Each member's expected share of its pool (by weight) against what it got."""
    totals = tally.pools()
    out = []
    for pool in config.pools:
        weight = sum(m.weight for m in pool.members) or 1
        total = totals[pool.id]
        for m in pool.members:
            got = tally.assigned[(pool.id, m.rep)]
            out.append(Share(pool.id, m.rep, got, m.weight / weight, got / total if total else 0))
    return out


def largest_deviation(rows: list[Share]) -> dict[str, float]:
    """Per pool that assigned anything, the largest |actual - expected| share of a member."""
    worst: dict[str, float] = {}
    busy = {row.pool for row in rows if row.leads}
    for row in rows:
        if row.pool in busy:
            worst[row.pool] = max(worst.get(row.pool, 0.0), abs(row.actual - row.expected))
    return worst


@dataclass
class Comparison:
    baseline: Tally = field(default_factory=Tally)
    candidate: Tally = field(default_factory=Tally)
    moved: list[Moved] = field(default_factory=list)
    newly_unassigned: list[str] = field(default_factory=list)
    newly_fallback: list[str] = field(default_factory=list)

    def add(self, before: Routing, after: Routing) -> None:
        self.baseline.add(before)
        self.candidate.add(after)
        if before.placed != after.placed:
            step, detail = parting(before, after)
            self.moved.append(Moved(before.lead_id, before.placed, after.placed, step, detail))
        b, a = before.assignment, after.assignment
        if b is None or a is None:
            return
        if a.outcome is Outcome.UNASSIGNED and b.outcome is not Outcome.UNASSIGNED:
            self.newly_unassigned.append(a.lead_id)
        if len(a.trace.pools_tried) > 1 and len(b.trace.pools_tried) == 1:
            self.newly_fallback.append(a.lead_id)


def parting(before: Routing, after: Routing) -> tuple[str, str]:
    """The first step at which two runs' handling of one lead differs, and how."""
    if before.rule_id != after.rule_id:
        return "rule", f"rule {before.rule_id or '(default)'} -> {after.rule_id or '(default)'}"
    if before.requested_pool != after.requested_pool:
        return "pool", f"pool {before.requested_pool} -> {after.requested_pool}"
    b, a = before.assignment, after.assignment
    if b is None or a is None:
        return "pool", "dropped as a duplicate in one run only"
    if b.trace.pools_tried != a.trace.pools_tried:
        tried = " > ".join(b.trace.pools_tried), " > ".join(a.trace.pools_tried)
        return "fallback", f"pools {tried[0]} -> {tried[1]}"
    verdict = _first_verdict_change(b, a)
    if verdict is not None:
        return "eligibility", verdict
    return "strategy", f"{a.trace.strategy} turn: {b.rep_id} -> {a.rep_id}"


def _first_verdict_change(before: Assignment, after: Assignment) -> str | None:
    old = {(c.pool_id, c.rep_id): c.skip_reason for c in before.trace.candidates}
    for c in after.trace.candidates:
        key = (c.pool_id, c.rep_id)
        if key not in old:
            return f"{c.rep_id} in pool {c.pool_id}: not a member -> {c.skip_reason or 'eligible'}"
        if old[key] != c.skip_reason:
            return (
                f"{c.rep_id} in pool {c.pool_id}: "
                f"{old[key] or 'eligible'} -> {c.skip_reason or 'eligible'}"
            )
    new = {(c.pool_id, c.rep_id) for c in after.trace.candidates}
    for c in before.trace.candidates:
        if (c.pool_id, c.rep_id) not in new:
            return f"{c.rep_id} in pool {c.pool_id}: no longer a member"
    return None
