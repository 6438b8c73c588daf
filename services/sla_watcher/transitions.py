"""How one lead's SLA entry moves: assignment, activity and time in; new entry and events out.

This module holds the assignment side, and activity parked before any assignment; CRM activity
for a tracked lead is `activity_transitions`, and the steps that fall due are `steps`. All pure:
`now_ms` is a parameter (the input record's timestamp, or the tick's time), ids derive
from the assignment id and the step, so replaying the same input gives the same events.

    assigned ──► running ──first touch / accepted / contacted──► touched ──closed──► (gone)
                    │ deadline missed or rejected
                    ├─ reassignments left ──► awaiting_owner ──new assignment──► running
                    ├─ fallback not used yet ──► awaiting_owner (in the fallback pool)
                    └─ otherwise ──► escalated (the manager is told)
"""

from __future__ import annotations

from dataclasses import dataclass

from services.leads.events import (
    Assignment,
    EscalationStep,
    Outcome,
    RequestKind,
)
from services.sla_watcher.deadlines import (
    EscalationTarget,
    SlaTerms,
    WorkingWeek,
    plan_deadlines,
)
from services.sla_watcher.effects import (
    Escalated,
    Ignored,
    Level,
    Transition,
    escalation_event,
    merge_owners,
    release_request,
    unchanged,
)
from services.sla_watcher.timer_state import ParkedRecord, SlaTimer, TimerStatus


@dataclass(frozen=True, slots=True)
class OwnerContext:
    """What the routing config says about the pool and the rep an assignment names."""

    terms: SlaTerms | None
    """None: the pool has no SLA policy; the lead is tracked but never timed."""
    week: WorkingWeek | None = None
    manager_id: str | None = None
    fallback_pool_id: str | None = None


def on_assignment(
    current: SlaTimer | None, assignment: Assignment, owner: OwnerContext, now_ms: int
) -> Transition:
    """Start (or restart) the lead's timer on an assignment; escalate when nobody took it."""
    if current is not None and current.assignment_id == assignment.assignment_id:
        return unchanged(current, Ignored.DUPLICATE_ASSIGNMENT)
    if assignment.outcome is Outcome.RELEASED:
        return unchanged(current)
    if current is not None and current.status is TimerStatus.CLOSED:
        return _release_late_owner(current, assignment, now_ms)
    if assignment.outcome is Outcome.UNASSIGNED or assignment.rep_id is None:
        return _nobody_took_it(current, assignment, owner, now_ms)
    if (
        current is not None
        and current.rep_id == assignment.rep_id
        and assignment.kind is RequestKind.ASSIGN
    ):
        # A repeated request confirmed the owner: the clock already running (or stopped) stands.
        return unchanged(current, Ignored.SAME_OWNER)
    carried = current is not None and assignment.kind is RequestKind.REASSIGN
    terms = owner.terms
    deadlines = plan_deadlines(assignment.decided_at_ms, terms, owner.week) if terms else None
    timer = SlaTimer(
        lead_id=assignment.lead_id,
        status=TimerStatus.RUNNING,
        assignment_id=assignment.assignment_id,
        pool_id=assignment.pool_id,
        policy_id=terms.policy_id if terms else "",
        rep_id=assignment.rep_id,
        manager_id=owner.manager_id,
        fallback_pool_id=owner.fallback_pool_id,
        previous_owners=merge_owners(
            current.previous_owners if current else (), assignment.previous_owners
        ),
        attempt=assignment.attempt,
        reassignments=current.reassignments if carried and current else 0,
        fallback_used=current.fallback_used if carried and current else False,
        received_at_ms=assignment.received_at_ms,
        assigned_at_ms=assignment.decided_at_ms,
        notify_due_ms=deadlines.notify_due_ms if deadlines else (),
        deadline_ms=deadlines.deadline_ms if deadlines else None,
        max_reassignments=terms.max_reassignments if terms else 0,
        escalate_to=(terms.escalate_to if terms else EscalationTarget.MANAGER).value,
        updated_at_ms=now_ms,
        lead=assignment.lead or (current.lead if current else None),
    )
    return Transition(timer)


def _release_late_owner(current: SlaTimer, assignment: Assignment, now_ms: int) -> Transition:
    """The lead was closed while a reassignment was in flight: free whoever got it."""
    if assignment.outcome is not Outcome.ASSIGNED or assignment.rep_id is None:
        return Transition(None)
    release = release_request(
        current,
        assignment_id=assignment.assignment_id,
        pool_id=assignment.pool_id,
        rep_id=assignment.rep_id,
        reason="lead closed before the reassignment landed",
        now_ms=now_ms,
    )
    return Transition(None, requests=(release,))


def _nobody_took_it(
    current: SlaTimer | None, assignment: Assignment, owner: OwnerContext, now_ms: int
) -> Transition:
    manager = current.manager_id if current and current.manager_id else owner.manager_id
    base = current or SlaTimer(
        lead_id=assignment.lead_id,
        status=TimerStatus.ESCALATED,
        assignment_id=assignment.assignment_id,
        pool_id=assignment.pool_id,
        policy_id=owner.terms.policy_id if owner.terms else "",
        attempt=assignment.attempt,
        received_at_ms=assignment.received_at_ms,
        assigned_at_ms=assignment.decided_at_ms,
        updated_at_ms=now_ms,
        lead=assignment.lead,
    )
    timer = base.model_copy(
        update={
            "status": TimerStatus.ESCALATED,
            "assignment_id": assignment.assignment_id,
            "rep_id": None,
            "manager_id": manager,
            "previous_owners": merge_owners(base.previous_owners, assignment.previous_owners),
            "attempt": assignment.attempt,
            "updated_at_ms": now_ms,
        }
    )
    escalation = escalation_event(
        timer,
        EscalationStep.ESCALATE,
        target=manager,
        reason=f"no rep could take the lead in pool {assignment.pool_id}: {assignment.reason}",
        due_ms=assignment.decided_at_ms,
        now_ms=now_ms,
    )
    notes = (Escalated(timer.pool_id, Level.MANAGER),)
    return Transition(timer, escalations=(escalation,), notes=notes)


def park(
    current: SlaTimer | None, record: ParkedRecord, lead_id: str, now_ms: int, wait_ms: int
) -> Transition:
    """Keep activity read before any assignment of its lead, until `now_ms + wait_ms` at most.

    Later activity for the same lead joins the first and expires with it.
    """
    if current is not None:
        parked = (*current.parked, record)
        return Transition(current.model_copy(update={"parked": parked, "updated_at_ms": now_ms}))
    entry = SlaTimer(
        lead_id=lead_id,
        status=TimerStatus.AWAITING_ASSIGNMENT,
        assignment_id="",
        pool_id="",
        policy_id="",
        attempt=0,
        received_at_ms=0,
        assigned_at_ms=0,
        deadline_ms=now_ms + wait_ms,
        updated_at_ms=now_ms,
        parked=(record,),
    )
    return Transition(entry)
