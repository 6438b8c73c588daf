"""Projected SLA breaches: each rep's recorded time to first touch, applied to the leads a run
gives them.

A rep's sample is, for each lead recorded as assigned to them (`leads.assignments`), the time
from that decision to the lead's first `first_touch` by them (`leads.activity`); the newest
`SAMPLES_PER_REP` are kept. A run that gives a rep `n` leads in a pool whose SLA policy allows
`D` to first touch projects `n * (share of the rep's samples above D)` breaches there.

A lead not touched by the end of the record is a censored sample: it waited at least its age.
For a deadline its age has passed it counts as late; for one still ahead it is left out, since
it may yet be touched in time (counting it late would make every backtest run just after a
burst of leads project them all as breaches). Leads of reps with no sample that a deadline can
use, or of pools with no SLA policy, are counted apart, not guessed. Deadlines are wall-clock
here, also for policies counted in business hours (which then project more breaches than the
watcher fires).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field

from services.backtest.compare import Tally
from services.leads.events import ActivityType, Assignment, LeadActivity, Outcome
from services.leads.routing_config import RoutingConfig

SAMPLES_PER_REP = 2_000


@dataclass
class TouchTimes:
    """Per rep, in ms and sorted: recorded times to first touch (`samples`), and the ages of
    leads still untouched when the record ended (`untouched`)."""

    samples: dict[str, list[int]] = field(default_factory=dict)
    untouched: dict[str, list[int]] = field(default_factory=dict)

    def breach_share(self, rep_id: str, deadline_ms: int) -> float | None:
        """The share of the rep's leads known to miss `deadline_ms`; None if none is known
        either way (no touch recorded, and every untouched lead still inside the deadline)."""
        touched = self.samples.get(rep_id, [])
        waited = self.untouched.get(rep_id, [])
        late_untouched = len(waited) - bisect_right(waited, deadline_ms)
        known = len(touched) + late_untouched
        if known == 0:
            return None
        late = len(touched) - bisect_right(touched, deadline_ms) + late_untouched
        return late / known


def touch_times(events: Iterable[Assignment | LeadActivity], end_ms: int) -> TouchTimes:
    """Each rep's times to first touch from the recorded decisions and activity, read as one
    stream in record-time order (only leads assigned and not yet touched are held); `end_ms`:
    when the record ends, the age of a lead never touched is counted up to it."""
    waiting: dict[tuple[str, str], int] = {}
    samples: dict[str, list[int]] = {}
    untouched: dict[str, list[int]] = {}

    def sample(into: dict[str, list[int]], rep_id: str, ms: int) -> None:
        kept = into.setdefault(rep_id, [])
        kept.append(ms)
        del kept[:-SAMPLES_PER_REP]

    for event in events:
        if isinstance(event, Assignment):
            if event.outcome is Outcome.ASSIGNED and event.rep_id is not None:
                waiting[(event.lead_id, event.rep_id)] = event.decided_at_ms
        elif event.type is ActivityType.FIRST_TOUCH and event.rep_id is not None:
            decided = waiting.pop((event.lead_id, event.rep_id), None)
            if decided is not None:
                sample(samples, event.rep_id, max(0, event.occurred_at_ms - decided))
    for (_lead, rep_id), decided in sorted(waiting.items(), key=lambda item: item[1]):
        sample(untouched, rep_id, max(0, end_ms - decided))
    return TouchTimes(
        {rep: sorted(found) for rep, found in samples.items()},
        {rep: sorted(found) for rep, found in untouched.items()},
    )


def projected_breaches(tally: Tally, config: RoutingConfig, touch: TouchTimes) -> dict[str, float]:
    """Expected breaches per pool, plus `no_history` (leads of reps with no sample the pool's
    deadline can use) and `no_policy` (leads of pools without an SLA policy)."""
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
