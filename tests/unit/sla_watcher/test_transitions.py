"""A lead's SLA entry through assignments, activity and deadlines (pure, injected times)."""

from __future__ import annotations

from typing import Any

from services.leads.events import ActivityType, EscalationStep, Outcome, RequestKind
from services.sla_watcher.activity_transitions import on_activity
from services.sla_watcher.deadlines import EscalationTarget
from services.sla_watcher.effects import Escalated, Fired, FirstTouch, Ignored, Level, Transition
from services.sla_watcher.steps import fire_due
from services.sla_watcher.timer_state import SlaTimer, TimerStatus
from services.sla_watcher.transitions import OwnerContext, on_assignment
from tests.unit.sla_watcher.builders import (
    MINUTE,
    T0,
    make_activity,
    make_assignment,
    make_context,
    make_terms,
)

GRACE = 2_000
DEADLINE = T0 + 5 * MINUTE


def started(rep: str = "ann", context: OwnerContext | None = None, **fields: Any) -> SlaTimer:
    transition = on_assignment(
        None, make_assignment(rep_id=rep, **fields), context or make_context(), T0
    )
    assert transition.state is not None
    return transition.state


def reassigned(timer: SlaTimer, rep: str, attempt: int, at_ms: int) -> SlaTimer:
    assignment = make_assignment(rep_id=rep, attempt=attempt, decided_at_ms=at_ms,
                                 previous_owners=timer.previous_owners)  # fmt: skip
    state = on_assignment(timer, assignment, make_context(), at_ms).state
    assert state is not None
    return state


def test_assignment_starts_a_timer_from_its_own_decision_time() -> None:
    timer = started(decided_at_ms=T0 - 30_000)
    assert timer.status is TimerStatus.RUNNING
    assert timer.deadline_ms == T0 - 30_000 + 5 * MINUTE
    assert timer.notify_due_ms == (T0 - 30_000 + 150_000,)
    assert timer.next_step() == (EscalationStep.NOTIFY, T0 + 120_000)


def test_nothing_fires_before_the_deadline_plus_grace() -> None:
    timer = started().model_copy(update={"notified": 1})
    assert not fire_due(timer, DEADLINE + GRACE - 1, GRACE).changed


def test_notify_reminds_the_owner_at_its_fraction() -> None:
    result = fire_due(started(), T0 + 150_000 + GRACE, GRACE)
    (notify,) = result.escalations
    assert (notify.step, notify.target, notify.rep_id) == (EscalationStep.NOTIFY, "ann", "ann")
    assert notify.escalation_id == "lead-1#a1:notify-1"
    assert (notify.due_at_ms, notify.fired_at_ms) == (T0 + 150_000, T0 + 152_000)
    assert result.state is not None and result.state.status is TimerStatus.RUNNING
    assert not result.requests


def test_missed_deadline_reassigns_excluding_the_owner() -> None:
    result = fire_due(started(), DEADLINE + GRACE, GRACE)
    steps = [e.step for e in result.escalations]
    assert steps == [EscalationStep.NOTIFY, EscalationStep.REASSIGN]  # overdue: both, in order
    (request,) = result.requests
    assert request.kind is RequestKind.REASSIGN
    assert request.request_id == "lead-1#a1:reassign"
    assert (request.pool_id, request.previous_owners, request.attempt) == ("inside", ("ann",), 2)
    assert request.rep_id == "ann" and request.lead is not None
    assert result.state is not None
    assert (result.state.status, result.state.rep_id) == (TimerStatus.AWAITING_OWNER, None)
    assert Fired("inside", EscalationStep.REASSIGN, GRACE) in result.notes


def test_reassignment_restarts_the_clock_for_the_new_owner() -> None:
    waiting = fire_due(started(), DEADLINE + GRACE, GRACE).state
    assert waiting is not None
    timer = reassigned(waiting, "bob", 2, DEADLINE + 3_000)
    assert (timer.status, timer.rep_id, timer.previous_owners) == (
        TimerStatus.RUNNING,
        "bob",
        ("ann",),
    )
    assert timer.deadline_ms == DEADLINE + 3_000 + 5 * MINUTE
    assert timer.reassignments == 1 and timer.notified == 0


def test_after_k_reassignments_the_manager_is_told() -> None:
    timer = started()
    now = T0
    for attempt, rep in ((2, "bob"), (3, "cy")):
        now = (timer.deadline_ms or 0) + GRACE
        waiting = fire_due(timer, now, GRACE).state
        assert waiting is not None
        timer = reassigned(waiting, rep, attempt, now)
    last = fire_due(timer, (timer.deadline_ms or 0) + GRACE, GRACE)
    escalate = last.escalations[-1]
    assert escalate.step is EscalationStep.ESCALATE
    assert (escalate.target, escalate.rep_id) == ("maria", "cy")
    assert escalate.previous_owners == ("ann", "bob")
    assert escalate.escalation_id == "lead-1#a3:escalate"
    assert not last.requests
    assert last.state is not None and last.state.status is TimerStatus.ESCALATED
    assert Escalated("inside", Level.MANAGER) in last.notes


def test_escalation_to_fallback_happens_once_then_the_manager() -> None:
    context = make_context(make_terms(max_reassignments=0), fallback_pool_id="global",
                           escalate_to=EscalationTarget.FALLBACK)  # fmt: skip
    timer = started(context=context).model_copy(update={"notified": 1})
    first = fire_due(timer, DEADLINE + GRACE, GRACE)
    (escalation,) = first.escalations
    release, request = first.requests
    assert (escalation.step, escalation.target) == (EscalationStep.ESCALATE, "global")
    assert (release.kind, release.pool_id, release.rep_id) == (RequestKind.RELEASE, "inside", "ann")
    assert (request.kind, request.pool_id, request.request_id) == (
        RequestKind.REASSIGN, "global", "lead-1#a1:escalate",
    )  # fmt: skip
    assert first.state is not None and first.state.fallback_used
    later = make_assignment(rep_id="zoe", attempt=2, pool_id="global", decided_at_ms=DEADLINE)
    in_fallback = on_assignment(first.state, later, context, DEADLINE).state
    assert in_fallback is not None and in_fallback.fallback_used
    last = fire_due(in_fallback.model_copy(update={"notified": 1}), DEADLINE * 2, GRACE)
    assert [(e.step, e.target) for e in last.escalations] == [(EscalationStep.ESCALATE, "maria")]
    assert not last.requests


def test_first_touch_stops_the_timer_and_records_time_to_first_touch() -> None:
    result = on_activity(started(), make_activity(occurred_at_ms=T0 + 90_000), T0 + 91_000)
    assert result.state is not None and result.state.status is TimerStatus.TOUCHED
    assert result.notes == (FirstTouch("inside", 90.0, met=True),)
    assert not fire_due(result.state, DEADLINE * 2, GRACE).changed


def test_touch_after_the_deadline_but_before_the_timer_fired_wins_and_counts_as_missed() -> None:
    touch = make_activity(ActivityType.ACCEPTED, occurred_at_ms=DEADLINE + 500)
    result = on_activity(started(), touch, DEADLINE + 600)
    assert result.state is not None and result.state.status is TimerStatus.TOUCHED
    assert result.notes == (FirstTouch("inside", 300.5, met=False),)


def test_activity_from_a_previous_owner_is_recorded_and_does_not_undo_the_reassignment() -> None:
    waiting = fire_due(started(), DEADLINE + GRACE, GRACE).state
    assert waiting is not None
    late = on_activity(
        waiting, make_activity(rep_id="ann", occurred_at_ms=DEADLINE - 10), DEADLINE + 3_000
    )
    assert late == Transition(waiting, changed=False, notes=(Ignored.PREVIOUS_OWNER,))
    timer = reassigned(waiting, "bob", 2, DEADLINE + 4_000)
    again = on_activity(timer, make_activity(rep_id="ann"), DEADLINE + 5_000)
    assert again.notes == (Ignored.PREVIOUS_OWNER,) and again.state == timer


def test_activity_from_someone_else_does_not_stop_the_clock() -> None:
    result = on_activity(started(), make_activity(rep_id="mallory"), T0 + 1)
    assert result.notes == (Ignored.NOT_OWNER,) and not result.changed


def test_activity_without_a_rep_is_taken_as_the_owners() -> None:
    result = on_activity(started(), make_activity(rep_id=None), T0 + 60_001)
    assert result.state is not None and result.state.status is TimerStatus.TOUCHED


def test_rejection_reassigns_at_once() -> None:
    result = on_activity(
        started(), make_activity(ActivityType.REJECTED, occurred_at_ms=T0 + 5), T0 + 10
    )
    (escalation,) = result.escalations
    (request,) = result.requests
    assert escalation.step is EscalationStep.REASSIGN and escalation.reason == "rejected by ann"
    assert request.previous_owners == ("ann",) and request.requested_at_ms == T0 + 10
    assert not any(isinstance(n, Fired) for n in result.notes)  # a rejection is no breach


def test_rejection_with_no_reassignments_left_goes_to_the_manager_and_frees_the_rep() -> None:
    timer = started(context=make_context(make_terms(max_reassignments=0)))
    result = on_activity(timer, make_activity(ActivityType.REJECTED), T0 + 10)
    assert [e.step for e in result.escalations] == [EscalationStep.ESCALATE]
    assert [(r.kind, r.rep_id) for r in result.requests] == [(RequestKind.RELEASE, "ann")]
    assert result.state is not None and result.state.rep_id is None


def test_closing_releases_the_owner_and_ends_tracking() -> None:
    touched = on_activity(started(), make_activity(), T0 + MINUTE).state
    assert touched is not None
    result = on_activity(touched, make_activity(ActivityType.CLOSED_WON), T0 + 2 * MINUTE)
    (release,) = result.requests
    assert (release.kind, release.rep_id, release.pool_id) == (RequestKind.RELEASE, "ann", "inside")
    assert release.request_id == "lead-1#a1:release"
    assert result.state is None and result.changed


def test_closing_during_a_reassignment_releases_whoever_the_router_picks() -> None:
    waiting = fire_due(started(), DEADLINE + GRACE, GRACE).state
    assert waiting is not None
    closed = on_activity(waiting, make_activity(ActivityType.DISQUALIFIED), DEADLINE + 3_000).state
    assert closed is not None and closed.status is TimerStatus.CLOSED
    result = on_assignment(
        closed, make_assignment(rep_id="bob", attempt=2), make_context(), DEADLINE + 4_000
    )
    assert [(r.kind, r.rep_id) for r in result.requests] == [(RequestKind.RELEASE, "bob")]
    assert result.state is None


def test_lead_nobody_takes_ends_with_a_manager_escalation() -> None:
    waiting = fire_due(started(), DEADLINE + GRACE, GRACE).state
    assert waiting is not None
    nobody = make_assignment(rep_id=None, attempt=2, reason="no eligible rep",
                             pool_id="unassigned", decided_at_ms=DEADLINE + 3_000)  # fmt: skip
    assert nobody.outcome is Outcome.UNASSIGNED
    result = on_assignment(waiting, nobody, make_context(manager_id=None), DEADLINE + 3_000)
    (escalation,) = result.escalations
    assert escalation.step is EscalationStep.ESCALATE
    assert escalation.target == "maria"  # the last owner's manager, kept from the timer
    assert escalation.escalation_id == "lead-1#a2:escalate"
    assert result.state is not None and result.state.status is TimerStatus.ESCALATED


def test_first_assignment_nobody_takes_is_escalated_too() -> None:
    nobody = make_assignment(rep_id=None, reason="pool empty")
    result = on_assignment(None, nobody, make_context(manager_id="tom"), T0)
    assert [(e.step, e.target) for e in result.escalations] == [(EscalationStep.ESCALATE, "tom")]


def test_replayed_assignment_changes_nothing() -> None:
    timer = started()
    result = on_assignment(timer, make_assignment(), make_context(), T0 + 99)
    assert result == Transition(timer, changed=False, notes=(Ignored.DUPLICATE_ASSIGNMENT,))


def test_pool_without_policy_is_tracked_but_never_timed() -> None:
    timer = started(context=OwnerContext(terms=None))
    assert timer.next_step() is None and timer.policy_id == ""
    result = on_activity(timer, make_activity(), T0 + 1)
    assert result.notes == (FirstTouch("inside", 60.0, met=None),)


def test_late_touch_on_an_escalated_lead_is_recorded_without_counting_the_deadline_twice() -> None:
    timer = started(context=make_context(make_terms(max_reassignments=0, notify_fractions=())))
    escalated = fire_due(timer, DEADLINE + GRACE, GRACE).state
    assert escalated is not None and escalated.status is TimerStatus.ESCALATED
    result = on_activity(
        escalated, make_activity(occurred_at_ms=DEADLINE + 9_000), DEADLINE + 9_000
    )
    assert result.state is not None and result.state.status is TimerStatus.TOUCHED
    assert result.notes == (FirstTouch("inside", 309.0, met=None),)


def test_repeated_assign_to_the_current_owner_keeps_the_running_clock() -> None:
    timer = started()
    again = make_assignment(assignment_id="lead-1#again", decided_at_ms=T0 + 4 * MINUTE)
    result = on_assignment(timer, again, make_context(), T0 + 4 * MINUTE)
    assert result == Transition(timer, changed=False, notes=(Ignored.SAME_OWNER,))
