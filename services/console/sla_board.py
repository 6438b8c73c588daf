"""The SLA board, from the projection: open timers due soonest, breaches today, compliance per
pool and rep today. Deadlines are computed as the SLA watcher computes them (its pure
`plan_deadlines` over the policy and the owner's hours from the config in force), so the board
and the watcher agree while the config does not change under a running timer.

An assignment's timer stops at the owner's first touch (`TOUCHES`, as the watcher reads them);
it is breached when the watcher fired a `reassign` or `escalate` step for it. Compliance is met
over met-or-breached; assignments still running count in neither.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from typing import Any

from services.console.queries import config_in_force
from services.leads.events import EscalationStep
from services.sla_watcher.activity_transitions import TOUCHES
from services.sla_watcher.deadlines import plan_deadlines
from services.sla_watcher.policies import owner_context

SHOWN_TIMERS = 20
BREACHES = (EscalationStep.REASSIGN.value, EscalationStep.ESCALATE.value)
TOUCH_TYPES = tuple(t.value for t in TOUCHES)


def _touched_after(db: sqlite3.Connection, lead_id: str, rep_id: str, at_ms: int) -> int | None:
    """When `rep_id` first touched the lead at or after `at_ms`, if they did."""
    for when, body in db.execute(
        "SELECT at_ms, body FROM events WHERE lead_id = ? AND kind = 'activity' AND rep_id = ? "
        "AND at_ms >= ? ORDER BY at_ms",
        (lead_id, rep_id, at_ms),
    ):
        if json.loads(body)["type"] in TOUCH_TYPES:
            return int(when)
    return None


def sla_board(db: sqlite3.Connection, day_start_ms: int, now_ms: int) -> dict[str, Any]:
    found = config_in_force(db)
    config = found[1] if found else None
    breached_ids = {}
    for body, pool in db.execute(
        "SELECT body, pool_id FROM events WHERE kind = 'escalation' AND at_ms >= ?",
        (day_start_ms,),
    ):
        escalation = json.loads(body)
        if escalation["step"] in BREACHES:
            breached_ids[escalation["assignment_id"]] = pool
    met: Counter[tuple[str, str]] = Counter()
    breached: Counter[tuple[str, str]] = Counter()
    timers = []
    rows = db.execute(
        "SELECT e.lead_id, e.pool_id, e.rep_id, e.at_ms, e.body, l.open, l.rep_id FROM events e "
        "JOIN leads l ON l.lead_id = e.lead_id WHERE e.kind = 'assignment' "
        "AND e.outcome = 'assigned' AND (e.at_ms >= ? OR l.open = 1)",
        (day_start_ms,),
    ).fetchall()
    for lead_id, pool_id, rep_id, at_ms, body, is_open, owner_now in rows:
        assignment_id = json.loads(body)["assignment_id"]
        still_owner = bool(is_open) and owner_now == rep_id
        owner = owner_context(config, pool_id, rep_id)
        if owner.terms is None:
            continue
        deadline = plan_deadlines(at_ms, owner.terms, owner.week).deadline_ms
        touched = _touched_after(db, lead_id, rep_id, at_ms)
        if at_ms >= day_start_ms:
            if assignment_id in breached_ids:
                breached[(pool_id, rep_id)] += 1
            elif touched is not None and touched <= deadline:
                met[(pool_id, rep_id)] += 1
        if still_owner and touched is None and assignment_id not in breached_ids:
            timers.append({"lead_id": lead_id, "pool_id": pool_id, "rep_id": rep_id,
                           "policy_id": owner.terms.policy_id, "due_ms": deadline,
                           "overdue": deadline <= now_ms})  # fmt: skip
    timers.sort(key=lambda t: (t["due_ms"], t["lead_id"]))
    compliance = [
        {"pool_id": pool, "rep_id": rep, "met": met[(pool, rep)],
         "breached": breached[(pool, rep)],
         "compliance": round(met[(pool, rep)] / (met[(pool, rep)] + breached[(pool, rep)]), 3)}
        for pool, rep in sorted(met.keys() | breached.keys())
    ]  # fmt: skip
    return {
        "timers": timers[:SHOWN_TIMERS],
        "open_timers": len(timers),
        "breaches_today": sum(breached.values()),
        "breaches_by_pool": dict(Counter(breached_ids.values())),
        "compliance": compliance,
    }
