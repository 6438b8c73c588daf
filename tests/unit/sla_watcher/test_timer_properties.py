"""Properties of the deadline book under any timing: each step fires exactly once, never before
it is due, never after the timer stopped, and a lead nobody answers ends with the manager."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from services.leads.events import Escalation, EscalationStep, RequestKind, RoutingRequest
from services.sla_watcher.activity_transitions import on_activity
from services.sla_watcher.deadlines import EscalationTarget, SlaTerms
from services.sla_watcher.effects import Transition
from services.sla_watcher.steps import fire_due
from services.sla_watcher.timer_state import SlaTimer, TimerStatus
from services.sla_watcher.transitions import OwnerContext, on_assignment
from tests.unit.sla_watcher.builders import MINUTE, T0, make_activity, make_assignment

GRACE = 2_000

terms_strategy = st.builds(
    SlaTerms,
    policy_id=st.just("p"),
    first_touch_ms=st.integers(min_value=1_000, max_value=10 * MINUTE),
    notify_fractions=st.sampled_from([(), (0.5,), (0.25, 0.75), (0.1, 0.5, 0.9)]),
    max_reassignments=st.integers(min_value=0, max_value=3),
    escalate_to=st.sampled_from(list(EscalationTarget)),
)


@dataclass
class Run:
    """One lead driven by ticks, router answers and (maybe) a first touch, in time order."""

    context: OwnerContext
    answer_delay_ms: int
    timer: SlaTimer | None = None
    escalations: list[Escalation] = field(default_factory=list)
    requests: list[RoutingRequest] = field(default_factory=list)
    answers: list[tuple[int, int]] = field(default_factory=list)
    """(due time, attempt) of router answers still to arrive."""
    plans: dict[str, SlaTimer] = field(default_factory=dict)
    touched_at: int | None = None

    def apply(self, transition: Transition) -> None:
        self.timer = transition.state
        self.escalations += transition.escalations
        for request in transition.requests:
            self.requests.append(request)
            if request.kind is RequestKind.REASSIGN:  # the router answers those; releases not
                due = request.requested_at_ms + self.answer_delay_ms
                self.answers.append((due, request.attempt))

    def assign(self, at_ms: int, attempt: int) -> None:
        rep = f"rep{attempt}"
        pool = "fallback" if self.timer is not None and self.timer.fallback_used else "inside"
        assignment = make_assignment(rep_id=rep, attempt=attempt, decided_at_ms=at_ms, pool_id=pool)
        self.apply(on_assignment(self.timer, assignment, self.context, at_ms))
        if self.timer is not None and self.timer.status is TimerStatus.RUNNING:
            self.plans[self.timer.assignment_id] = self.timer

    def advance_to(self, now_ms: int) -> None:
        while self.answers and self.answers[0][0] <= now_ms:
            at_ms, attempt = self.answers.pop(0)
            self.tick(at_ms)
            self.assign(at_ms, attempt)
        self.tick(now_ms)

    def tick(self, now_ms: int) -> None:
        if self.timer is not None:
            self.apply(fire_due(self.timer, now_ms, GRACE))

    def touch(self, at_ms: int) -> None:
        self.advance_to(at_ms - 1)
        if self.timer is not None and self.timer.rep_id is not None:
            before = self.timer.status
            self.apply(
                on_activity(self.timer, make_activity(rep_id=None, occurred_at_ms=at_ms), at_ms)
            )
            if before is TimerStatus.RUNNING:
                self.touched_at = at_ms


def drive(terms: SlaTerms, ticks: list[int], touch_after: int | None, answer_delay: int) -> Run:
    context = OwnerContext(terms, None, "maria", "fallback")
    run = Run(context, answer_delay)
    run.assign(T0, 1)
    now = T0
    touch_at = None if touch_after is None else T0 + touch_after
    for gap in ticks:
        if touch_at is not None and now <= touch_at <= now + gap:
            run.touch(touch_at)
            touch_at = None
        now += gap
        run.advance_to(now)
    return run


@settings(max_examples=150, deadline=None)
@given(
    terms=terms_strategy,
    ticks=st.lists(st.integers(min_value=1, max_value=4 * MINUTE), min_size=1, max_size=40),
    touch_after=st.none() | st.integers(min_value=0, max_value=60 * MINUTE),
    answer_delay=st.integers(min_value=0, max_value=MINUTE),
)
def test_each_step_fires_at_most_once_never_early_and_never_after_the_stop(
    terms: SlaTerms, ticks: list[int], touch_after: int | None, answer_delay: int
) -> None:
    run = drive(terms, ticks, touch_after, answer_delay)
    ids = Counter(e.escalation_id for e in run.escalations)
    assert all(n == 1 for n in ids.values()), ids
    assert len({r.request_id for r in run.requests}) == len(run.requests)
    for release in (r for r in run.requests if r.kind is RequestKind.RELEASE):
        assert release.rep_id is not None, "a release must name the rep it frees"
    for escalation in run.escalations:
        assert escalation.fired_at_ms >= escalation.due_at_ms + GRACE
        if run.touched_at is not None:
            assert escalation.fired_at_ms < run.touched_at
    for assignment_id, plan in run.plans.items():
        fired = [e for e in run.escalations if e.assignment_id == assignment_id]
        dues = [e.due_at_ms for e in fired]
        assert dues == sorted(dues), "steps fired out of order"
        notifies = [e for e in fired if e.step is EscalationStep.NOTIFY]
        assert [e.due_at_ms for e in notifies] == list(plan.notify_due_ms[: len(notifies)])
        deadline_steps = [e for e in fired if e.step is not EscalationStep.NOTIFY]
        assert len(deadline_steps) <= 1
        if deadline_steps:
            assert deadline_steps[0].due_at_ms == plan.deadline_ms
            assert len(notifies) == len(plan.notify_due_ms), "a deadline fired before a notify"


@settings(max_examples=100, deadline=None)
@given(terms=terms_strategy, answer_delay=st.integers(min_value=0, max_value=MINUTE))
def test_a_lead_nobody_answers_ends_with_exactly_one_manager_escalation(
    terms: SlaTerms, answer_delay: int
) -> None:
    run = drive(terms, [60_000] * 120, None, answer_delay)  # two hours of ticks, no touch
    assert run.timer is not None and run.timer.status is TimerStatus.ESCALATED
    finals = [
        e for e in run.escalations if e.step is EscalationStep.ESCALATE and e.target == "maria"
    ]
    assert len(finals) == 1
    assert run.escalations[-1] == finals[0]
    reassigns = [e for e in run.escalations if e.step is EscalationStep.REASSIGN]
    rounds = 2 if terms.escalate_to is EscalationTarget.FALLBACK else 1
    assert len(reassigns) == terms.max_reassignments * rounds
    owners = [r.previous_owners for r in run.requests if r.kind is RequestKind.REASSIGN]
    for earlier, later in itertools.pairwise(owners):
        assert set(earlier) < set(later), "a reassignment forgot a previous owner"


@settings(max_examples=200, deadline=None)
@given(
    terms=terms_strategy,
    touch_after=st.integers(min_value=0, max_value=10 * MINUTE),
)
def test_a_touch_before_the_deadline_means_no_reassignment(
    terms: SlaTerms, touch_after: int
) -> None:
    touch_after = min(touch_after, terms.first_touch_ms)
    run = drive(terms, [5_000] * 200, touch_after, 0)
    assert not run.requests
    assert run.timer is not None and run.timer.status is TimerStatus.TOUCHED
    assert all(e.step is EscalationStep.NOTIFY for e in run.escalations)
