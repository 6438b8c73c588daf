"""The live view's numbers, computed from the assignments themselves (pure: no Kafka, no clock).

`Board.record(assignment)` folds one decision in; `Board.snapshot(weights)` returns frozen rows
per pool and rep. Everything here is derived from `leads.assignments` alone, so the view agrees
with what CRM consumers see:

- assigned: decisions that gave the rep the lead (assign and reassign);
- open: leads whose latest decision names the rep and that were not released since;
- skipped: per pool, candidates the router passed over, by the reason's kind (the text before
  the first ':' so a reason carrying a time or a count does not explode the table);
- deviation: assigned minus the rep's weighted share of the pool's assigned total;
- speed to lead: decided minus received, for first assignments, over a bounded recent window.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass

from services.leads.events import Assignment, Outcome, RequestKind

SPEED_WINDOW = 2000
"""First assignments kept per pool for the speed-to-lead percentiles."""


@dataclass(frozen=True, slots=True)
class RepRow:
    pool_id: str
    rep_id: str
    assigned: int
    open: int
    deviation: float


@dataclass(frozen=True, slots=True)
class PoolRow:
    pool_id: str
    assigned: int
    reassigned: int
    unassigned: int
    released: int
    skipped: tuple[tuple[str, int], ...]
    speed_p50_ms: int | None
    speed_p99_ms: int | None
    reps: tuple[RepRow, ...]


@dataclass(frozen=True, slots=True)
class Decision:
    """One line of the decision tail."""

    decided_at_ms: int
    lead_id: str
    kind: str
    outcome: str
    pool_id: str
    rep_id: str | None
    attempt: int
    reason: str


@dataclass(frozen=True, slots=True)
class BoardSnapshot:
    decisions: int
    pools: tuple[PoolRow, ...]
    latest: tuple[Decision, ...]


def percentile(sorted_values: list[int], fraction: float) -> int | None:
    """Nearest-rank percentile of an ascending list; None when it is empty."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(len(sorted_values) * fraction))
    return sorted_values[rank - 1]


def reason_kind(reason: str) -> str:
    return reason.split(":", 1)[0].strip() or "unspecified"


class Board:
    """Running totals over a stream of assignments; the same stream always gives the same board."""

    def __init__(self, tail: int = 12) -> None:
        self.decisions = 0
        self._assigned: Counter[tuple[str, str]] = Counter()
        self._members: dict[str, set[str]] = {}
        self._owner: dict[str, tuple[str, str]] = {}
        self._kinds: Counter[tuple[str, str]] = Counter()
        self._skipped: dict[str, Counter[str]] = {}
        self._speed: dict[str, deque[int]] = {}
        self._latest: deque[Decision] = deque(maxlen=tail)

    def record(self, assignment: Assignment) -> None:
        self.decisions += 1
        pool = assignment.pool_id
        members = self._members.setdefault(pool, set())
        members.update(c.rep_id for c in assignment.trace.candidates if c.pool_id == pool)
        skipped = self._skipped.setdefault(pool, Counter())
        for candidate in assignment.trace.candidates:
            if candidate.skip_reason:
                skipped[reason_kind(candidate.skip_reason)] += 1
        self._kinds[(pool, assignment.outcome.value)] += 1
        if assignment.kind is RequestKind.REASSIGN:
            self._kinds[(pool, "reassigned")] += 1
        if assignment.outcome is Outcome.ASSIGNED and assignment.rep_id is not None:
            members.add(assignment.rep_id)
            self._assigned[(pool, assignment.rep_id)] += 1
            self._owner[assignment.lead_id] = (pool, assignment.rep_id)
            if assignment.kind is RequestKind.ASSIGN:
                window = self._speed.setdefault(pool, deque(maxlen=SPEED_WINDOW))
                window.append(max(0, assignment.decided_at_ms - assignment.received_at_ms))
        else:  # released, or reassigned to nobody: the lead has no owner now
            self._owner.pop(assignment.lead_id, None)
        self._latest.append(
            Decision(
                decided_at_ms=assignment.decided_at_ms,
                lead_id=assignment.lead_id,
                kind=assignment.kind.value,
                outcome=assignment.outcome.value,
                pool_id=pool,
                rep_id=assignment.rep_id,
                attempt=assignment.attempt,
                reason=assignment.reason,
            )
        )

    def snapshot(self, weights: Mapping[str, Mapping[str, float]] | None = None) -> BoardSnapshot:
        """Rows per pool (by id) and rep (by id); `weights` is pool -> rep -> weight (default 1)."""
        open_counts = Counter(self._owner.values())
        pools = []
        for pool in sorted(self._members.keys() | {p for p, _ in self._kinds}):
            members = sorted(self._members.get(pool, set()))
            pool_weights = (weights or {}).get(pool, {})
            weight = {rep: pool_weights.get(rep, 1.0) for rep in members}
            total_weight = sum(weight.values()) or 1.0
            pool_total = sum(self._assigned[(pool, rep)] for rep in members)
            reps = tuple(
                RepRow(
                    pool_id=pool,
                    rep_id=rep,
                    assigned=self._assigned[(pool, rep)],
                    open=open_counts[(pool, rep)],
                    deviation=self._assigned[(pool, rep)] - pool_total * weight[rep] / total_weight,
                )
                for rep in members
            )
            speeds = sorted(self._speed.get(pool, ()))
            pools.append(
                PoolRow(
                    pool_id=pool,
                    assigned=self._kinds[(pool, Outcome.ASSIGNED.value)],
                    reassigned=self._kinds[(pool, "reassigned")],
                    unassigned=self._kinds[(pool, Outcome.UNASSIGNED.value)],
                    released=self._kinds[(pool, Outcome.RELEASED.value)],
                    skipped=tuple(sorted(self._skipped.get(pool, Counter()).items())),
                    speed_p50_ms=percentile(speeds, 0.50),
                    speed_p99_ms=percentile(speeds, 0.99),
                    reps=reps,
                )
            )
        return BoardSnapshot(self.decisions, tuple(pools), tuple(reversed(self._latest)))
