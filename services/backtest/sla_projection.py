"""Projected SLA breaches: each rep's recorded time to first touch, applied to the leads a run
gives them.

A rep's sample is, for each lead recorded as assigned to them (`leads.assignments`), the time
from that decision to the lead's first `first_touch` by them (`leads.activity`); the newest
`SAMPLES_PER_REP` are kept. A run that gives a rep `n` leads in a pool whose SLA policy allows
`D` to first touch projects `n * (share of the rep's samples above D)` breaches there. A lead
never touched counts as above every deadline. Leads of reps with no sample, or of pools with
no SLA policy, are counted apart, not guessed. Deadlines are wall-clock here, also for
policies counted in business hours (which then project more breaches than the watcher fires).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field

from services.backtest.compare import Tally
from services.leads.events import ActivityType, Assignment, LeadActivity, Outcome
from services.leads.routing_config import RoutingConfig

SAMPLES_PER_REP = 2_000
NEVER = 2**62
"""The time to first touch of a lead never touched: above any deadline."""


@dataclass
class TouchTimes:
    """Per rep, recorded times to first touch in ms, sorted."""

    samples: dict[str, list[int]] = field(default_factory=dict)

    def breach_share(self, rep_id: str, deadline_ms: int) -> float | None:
        found = self.samples.get(rep_id)
        if not found:
            return None
        return 1 - bisect_right(found, deadline_ms) / len(found)


def touch_times(events: Iterable[Assignment | LeadActivity]) -> TouchTimes:
    """Each rep's times to first touch from the recorded decisions and activity, read as one
    stream in record-time order: only leads assigned and not yet touched are held."""
    waiting: dict[tuple[str, str], int] = {}
    samples: dict[str, list[int]] = {}

    def sample(rep_id: str, ms: int) -> None:
        kept = samples.setdefault(rep_id, [])
        kept.append(ms)
        del kept[:-SAMPLES_PER_REP]

    for event in events:
        if isinstance(event, Assignment):
            if event.outcome is Outcome.ASSIGNED and event.rep_id is not None:
                waiting[(event.lead_id, event.rep_id)] = event.decided_at_ms
        elif event.type is ActivityType.FIRST_TOUCH and event.rep_id is not None:
            decided = waiting.pop((event.lead_id, event.rep_id), None)
            if decided is not None:
                sample(event.rep_id, max(0, event.occurred_at_ms - decided))
    for _lead, rep_id in waiting:  # never touched: later than any deadline
        sample(rep_id, NEVER)
    return TouchTimes({rep: sorted(found) for rep, found in samples.items()})


def projected_breaches(tally: Tally, config: RoutingConfig, touch: TouchTimes) -> dict[str, float]:
    """Expected breaches per pool, plus `no_history` (leads of reps never sampled) and
    `no_policy` (leads of pools without an SLA policy)."""
    out: dict[str, float] = {"no_history": 0, "no_policy": 0}
    for (pool_id, rep_id), leads in sorted(tally.assigned.items()):
        pool = config.pool(pool_id) if config.has_pool(pool_id) else None
        if pool is None or pool.sla_policy is None:
            out["no_policy"] += leads
            continue
        deadline = config.sla_policy(pool.sla_policy).first_touch_ms
        share = touch.breach_share(rep_id, deadline)
        if share is None:
            out["no_history"] += leads
            continue
        out[pool_id] = round(out.get(pool_id, 0.0) + leads * share, 2)
    return out
