"""What the routing config says an assignment's timer needs: policy terms, hours, escalation.

Pure: reads a `RoutingConfig` value. The terms are taken once, when the assignment arrives, and
kept in the timer, so publishing a new config never moves a deadline already running.
"""

from __future__ import annotations

from services.leads.routing_config import RoutingConfig
from services.sla_watcher.deadlines import (
    ALL_DAY,
    EscalationTarget,
    SlaTerms,
    Window,
    WorkingWeek,
)
from services.sla_watcher.transitions import OwnerContext


def owner_context(config: RoutingConfig | None, pool_id: str, rep_id: str | None) -> OwnerContext:
    """The SLA terms of `pool_id`, the working week of `rep_id`, and who escalations go to.

    A pool the config does not know, or one without an SLA policy, gives no terms: the lead is
    tracked (activity is recognised, closing it frees the rep) but never timed.
    """
    if config is None or not config.has_pool(pool_id):
        return OwnerContext(terms=None)
    pool = config.pool(pool_id)
    terms = None
    if pool.sla_policy is not None:
        policy = config.sla_policy(pool.sla_policy)
        terms = SlaTerms(
            policy_id=policy.id,
            first_touch_ms=policy.first_touch_ms,
            business_hours=policy.business_hours,
            notify_fractions=policy.notify_at,
            max_reassignments=policy.escalate.after_reassignments if policy.reassign else 0,
            escalate_to=EscalationTarget(policy.escalate.to.value),
        )
    known_rep = rep_id is not None and config.has_rep(rep_id)
    return OwnerContext(
        terms=terms,
        week=working_week(config, rep_id) if rep_id is not None and known_rep else None,
        manager_id=config.escalation_manager(pool_id, rep_id),
        fallback_pool_id=pool.fallback,
    )


def working_week(config: RoutingConfig, rep_id: str) -> WorkingWeek | None:
    """The rep's hours and holidays in their zone; around the clock when they have no hours.

    None (the clock never pauses) for hours with no range at all: such a rep is never working,
    so the router does not pick them, and a deadline must still come.
    """
    rep = config.rep(rep_id)
    hours = config.hours_of(rep_id)
    if hours is None:
        windows = ALL_DAY
    else:
        windows = tuple(Window(day, r.start_s, r.end_s) for day in range(7) for r in hours.on(day))
    if not windows:
        return None
    return WorkingWeek(rep.time_zone, windows, frozenset(rep.holidays))
