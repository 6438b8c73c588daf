"""The SLA steps: notify the owner, reassign at the deadline, escalate when reassignments run out.

Pure. `fire_due` is what a tick does to one timer: every step whose due time (plus grace) has
passed fires once, in order, so a timer overdue after a restart fires notify and then its
deadline step in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.leads.events import EscalationStep, RequestKind, RoutingRequest
from services.sla_watcher.deadlines import EscalationTarget, deadline_step
from services.sla_watcher.effects import (
    Escalated,
    Fired,
    Level,
    Note,
    Transition,
    escalation_event,
    merge_owners,
    routing_request,
    unchanged,
)
from services.sla_watcher.timer_state import SlaTimer, TimerStatus


def fire_due(
    timer: SlaTimer, now_ms: int, grace_ms: int, read_up_to_ms: int | None = None
) -> Transition:
    """Fire every step of `timer` that is due at `now_ms`; unchanged when none is.

    `read_up_to_ms` is how far the input has been read when it lags behind `now_ms`: a step
    waits until activity up to its due time plus grace has been read, so a touch already in the
    log wins over the timer. Steps fire with `fired_at_ms = now_ms` either way.
    """
    horizon = now_ms if read_up_to_ms is None else min(now_ms, read_up_to_ms)
    result = unchanged(timer)
    while result.state is not None:
        due = result.state.due_step(horizon, grace_ms)
        if due is None:
            break
        step, due_ms = due
        if step is EscalationStep.NOTIFY:
            fired = notify(result.state, now_ms, due_ms)
        else:
            fired = miss(result.state, now_ms, due_ms=due_ms)
        result = result.then(fired)
    return result


def notify(timer: SlaTimer, now_ms: int, due_ms: int) -> Transition:
    escalation = escalation_event(
        timer,
        EscalationStep.NOTIFY,
        target=timer.rep_id,
        reason=f"no first touch yet; the {timer.policy_id} deadline is close",
        due_ms=due_ms,
        now_ms=now_ms,
        number=timer.notified + 1,
    )
    notes: tuple[Note, ...] = (
        Fired(timer.pool_id, EscalationStep.NOTIFY, now_ms - due_ms),
        Escalated(timer.pool_id, Level.OWNER),
    )
    notified = timer.model_copy(update={"notified": timer.notified + 1, "updated_at_ms": now_ms})
    return Transition(notified, escalations=(escalation,), notes=notes)


@dataclass(frozen=True, slots=True)
class _Miss:
    """One missed deadline (or rejection), as the three outcomes below need it."""

    timer: SlaTimer
    owners: tuple[str, ...]
    """Every previous owner, the one who just missed included."""
    cause: str
    due_ms: int
    now_ms: int
    notes: tuple[Note, ...]
    rejected: bool


def miss(
    timer: SlaTimer, now_ms: int, *, due_ms: int, rejected_by: str | None = None
) -> Transition:
    """The owner missed the deadline (or rejected the lead): reassign, or escalate.

    Reassign while the policy's reassignments remain, excluding every previous owner; then
    hand the lead to the fallback pool once if the policy says so; then tell the manager.
    """
    owner = timer.rep_id
    owners = merge_owners(timer.previous_owners, (owner,) if owner else ())
    if rejected_by is not None:
        cause = f"rejected by {rejected_by}"
        notes: tuple[Note, ...] = ()
    else:
        cause = f"no first touch by {owner} before the {timer.policy_id} deadline"
        step = deadline_step(timer.reassignments, timer.max_reassignments)
        notes = (Fired(timer.pool_id, step, now_ms - due_ms),)
    missed = _Miss(timer, owners, cause, due_ms, now_ms, notes, rejected_by is not None)
    if timer.reassignments < timer.max_reassignments:
        return _reassign(missed)
    fallback = timer.fallback_pool_id
    if timer.escalate_to == EscalationTarget.FALLBACK and fallback and not timer.fallback_used:
        return _to_fallback(missed, fallback)
    return _to_manager(missed)


def _reassign(m: _Miss) -> Transition:
    timer = m.timer
    escalation = escalation_event(
        timer,
        EscalationStep.REASSIGN,
        target=timer.pool_id,
        reason=m.cause,
        due_ms=m.due_ms,
        now_ms=m.now_ms,
    )
    request = routing_request(
        timer,
        RequestKind.REASSIGN,
        f"{timer.assignment_id}:reassign",
        pool_id=timer.pool_id,
        rep_id=timer.rep_id,
        previous_owners=m.owners,
        reason=m.cause,
        now_ms=m.now_ms,
    )
    waiting = timer.model_copy(
        update={
            "status": TimerStatus.AWAITING_OWNER,
            "rep_id": None,
            "previous_owners": m.owners,
            "reassignments": timer.reassignments + 1,
            "updated_at_ms": m.now_ms,
        }
    )
    notes = (*m.notes, Escalated(timer.pool_id, Level.POOL))
    return Transition(waiting, escalations=(escalation,), requests=(request,), notes=notes)


def _to_fallback(m: _Miss, fallback: str) -> Transition:
    timer = m.timer
    reason = f"{m.cause}; {timer.reassignments} reassignments used, handed to pool {fallback}"
    escalation = escalation_event(
        timer,
        EscalationStep.ESCALATE,
        target=fallback,
        reason=reason,
        due_ms=m.due_ms,
        now_ms=m.now_ms,
    )
    # The current pool still counts the lead against its owner: free it there, since the
    # reassign goes to another pool, which cannot release what it never held.
    release = routing_request(
        timer,
        RequestKind.RELEASE,
        f"{timer.assignment_id}:release",
        pool_id=timer.pool_id,
        rep_id=timer.rep_id,
        reason=reason,
        now_ms=m.now_ms,
    )
    request = routing_request(
        timer,
        RequestKind.REASSIGN,
        f"{timer.assignment_id}:escalate",
        pool_id=fallback,
        rep_id=timer.rep_id,
        previous_owners=m.owners,
        reason=reason,
        now_ms=m.now_ms,
    )
    waiting = timer.model_copy(
        update={
            "status": TimerStatus.AWAITING_OWNER,
            "rep_id": None,
            "previous_owners": m.owners,
            "reassignments": 0,
            "fallback_used": True,
            "updated_at_ms": m.now_ms,
        }
    )
    notes = (*m.notes, Escalated(timer.pool_id, Level.FALLBACK))
    requests = (release, request)
    return Transition(waiting, escalations=(escalation,), requests=requests, notes=notes)


def _to_manager(m: _Miss) -> Transition:
    """The last step: the manager is told. A silent owner keeps the lead (a late first touch
    still counts); an owner who rejected it is released."""
    timer = m.timer
    reason = f"{m.cause}; {timer.reassignments} reassignments used, the manager must act"
    escalation = escalation_event(
        timer,
        EscalationStep.ESCALATE,
        target=timer.manager_id,
        reason=reason,
        due_ms=m.due_ms,
        now_ms=m.now_ms,
    )
    notes = (*m.notes, Escalated(timer.pool_id, Level.MANAGER))
    update: dict[str, object] = {"status": TimerStatus.ESCALATED, "updated_at_ms": m.now_ms}
    requests: tuple[RoutingRequest, ...] = ()
    if m.rejected and timer.rep_id is not None:
        update |= {"rep_id": None, "previous_owners": m.owners}
        release = routing_request(
            timer,
            RequestKind.RELEASE,
            f"{timer.assignment_id}:release",
            pool_id=timer.pool_id,
            rep_id=timer.rep_id,
            reason=m.cause,
            now_ms=m.now_ms,
        )
        requests = (release,)
    escalated = timer.model_copy(update=update)
    return Transition(escalated, escalations=(escalation,), requests=requests, notes=notes)
