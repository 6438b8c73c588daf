"""How CRM activity moves a tracked lead's SLA entry: a touch stops the clock, a close frees the
owner, a rejection counts as a missed deadline.

Pure, like `transitions`: `now_ms` is the activity record's timestamp.
"""

from __future__ import annotations

from services.leads.events import ActivityType, LeadActivity
from services.sla_watcher.effects import (
    FirstTouch,
    Ignored,
    Note,
    Transition,
    merge_owners,
    release_request,
    unchanged,
)
from services.sla_watcher.steps import miss
from services.sla_watcher.timer_state import SlaTimer, TimerStatus

TOUCHES = frozenset({ActivityType.FIRST_TOUCH, ActivityType.ACCEPTED, ActivityType.CONTACTED})
CLOSES = frozenset({ActivityType.CLOSED_WON, ActivityType.CLOSED_LOST, ActivityType.DISQUALIFIED})


def on_activity(timer: SlaTimer, activity: LeadActivity, now_ms: int) -> Transition:
    """Apply CRM activity to a tracked lead. Activity from a previous owner changes nothing."""
    if activity.type in CLOSES:
        return _close(timer, activity, now_ms)
    by_owner = timer.rep_id is not None and activity.rep_id in (None, timer.rep_id)
    if not by_owner:
        if activity.rep_id is not None and activity.rep_id in timer.previous_owners:
            return unchanged(timer, Ignored.PREVIOUS_OWNER)
        return unchanged(timer, Ignored.NOT_OWNER if timer.rep_id else Ignored.NO_OWNER)
    if activity.type is ActivityType.REJECTED:
        if timer.status is TimerStatus.ESCALATED:
            return _drop_owner(timer, activity, now_ms)
        return miss(timer, now_ms, due_ms=now_ms, rejected_by=timer.rep_id)
    if activity.type not in TOUCHES or timer.status is TimerStatus.TOUCHED:
        return unchanged(timer, Ignored.ALREADY_TOUCHED)
    return _touch(timer, activity.occurred_at_ms, now_ms)


def _touch(timer: SlaTimer, touched_ms: int, now_ms: int) -> Transition:
    # An escalated lead's deadline was already counted as missed when it fired.
    settled = timer.deadline_ms is None or timer.status is TimerStatus.ESCALATED
    met = None if settled or timer.deadline_ms is None else touched_ms <= timer.deadline_ms
    note = FirstTouch(timer.pool_id, max(0, touched_ms - timer.assigned_at_ms) / 1000, met)
    stopped = timer.model_copy(
        update={"status": TimerStatus.TOUCHED, "touched_at_ms": touched_ms, "updated_at_ms": now_ms}
    )
    return Transition(stopped, notes=(note,))


def _close(timer: SlaTimer, activity: LeadActivity, now_ms: int) -> Transition:
    if timer.status is TimerStatus.CLOSED:
        return unchanged(timer, Ignored.ALREADY_CLOSED)
    if timer.status is TimerStatus.AWAITING_OWNER:
        closed = timer.model_copy(update={"status": TimerStatus.CLOSED, "updated_at_ms": now_ms})
        return Transition(closed)  # the owner the router is choosing now is released on arrival
    notes: tuple[Note, ...] = ()
    if timer.status is TimerStatus.RUNNING:
        notes = _touch(timer, activity.occurred_at_ms, now_ms).notes  # closing is handling it
    if timer.rep_id is None:
        return Transition(None, notes=notes)
    release = release_request(
        timer,
        assignment_id=timer.assignment_id,
        pool_id=timer.pool_id,
        rep_id=timer.rep_id,
        reason=f"lead {activity.type.value}",
        now_ms=now_ms,
    )
    return Transition(None, requests=(release,), notes=notes)


def _drop_owner(timer: SlaTimer, activity: LeadActivity, now_ms: int) -> Transition:
    """The owner of an escalated lead gave it up: the manager already knows; free the rep."""
    if timer.rep_id is None:
        return unchanged(timer, Ignored.NO_OWNER)
    release = release_request(
        timer,
        assignment_id=timer.assignment_id,
        pool_id=timer.pool_id,
        rep_id=timer.rep_id,
        reason="the owner rejected an escalated lead",
        now_ms=now_ms,
    )
    dropped = timer.model_copy(
        update={
            "rep_id": None,
            "previous_owners": merge_owners(timer.previous_owners, (timer.rep_id,)),
            "updated_at_ms": now_ms,
        }
    )
    return Transition(dropped, requests=(release,))
