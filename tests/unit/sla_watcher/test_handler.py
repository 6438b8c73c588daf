"""The watcher's handler: records in, records out, state in `sla.timers`; no broker needed."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from services.leads.events import (
    ActivityType,
    Assignment,
    DeadLetter,
    Escalation,
    EscalationStep,
    LeadActivity,
    RequestKind,
    RoutingRequest,
)
from services.leads.routing_config import RoutingConfig
from services.sla_watcher.handler import SlaHandler, WatcherTiming, WatcherTopics
from services.sla_watcher.metrics import SlaMetrics
from services.sla_watcher.timer_state import TimerStatus
from services.sla_watcher.timer_store import TimerStore
from services.streaming.cloudevents import header
from services.streaming.codec import AvroCodec
from services.streaming.dead_letters import DeadLetterSink
from services.streaming.errors import DecodeError, PermanentError
from services.streaming.metrics import RuntimeMetrics
from services.streaming.records import InputRecord, OutputRecord
from tests.unit.sla_watcher.builders import HOUR, MINUTE, T0, make_activity, make_assignment
from tests.unit.sla_watcher.config_builders import make_config

TOPICS = WatcherTopics(
    "leads.assignments", "leads.activity", "leads.escalations", "routing.requests",
    "leads.dead-letter",
)  # fmt: skip
WAIT = 5_000
GRACE = 2_000
DEADLINE = T0 + 5 * MINUTE


class Harness:
    def __init__(self, config: RoutingConfig | None = None, max_due_per_tick: int = 1_000) -> None:
        self.registry = CollectorRegistry()
        self.store = TimerStore("sla.timers")
        self.store.adopt(0)
        chosen = config if config is not None else make_config({"business_hours": False})
        self.handler = SlaHandler(
            topics=TOPICS,
            store=self.store,
            config=lambda: chosen,
            metrics=SlaMetrics.create(self.registry),
            timing=WatcherTiming(
                grace_ms=GRACE,
                retention_ms=86_400_000,
                sweep_interval_ms=0,
                max_catch_up_ms=MINUTE,
                early_activity_wait_ms=WAIT,
                max_due_per_tick=max_due_per_tick,
            ),
        )
        counter = RuntimeMetrics.create(self.registry).dead_letters
        self.handler.bind_dead_letters(DeadLetterSink(TOPICS.dead_letter, "sla", 1000, counter))
        self.offset = 0

    def send(self, topic: str, key: str, value: bytes, at_ms: int) -> list[OutputRecord]:
        """Handle one record written at `at_ms`, then tick at that time, as the loop does."""
        outputs = self.batch(topic, key, value, at_ms)
        return outputs + self.handler.tick(0, at_ms)

    def batch(self, topic: str, key: str, value: bytes, at_ms: int) -> list[OutputRecord]:
        """Handle one record without the tick that follows a batch."""
        self.offset += 1
        record = InputRecord(topic, 0, self.offset, key.encode(), value, at_ms)
        return self.handler.handle(record)

    def assign(self, assignment: Assignment, at_ms: int = T0) -> list[OutputRecord]:
        value = AvroCodec(Assignment).encode(assignment)
        return self.send(TOPICS.assignments, assignment.lead_id, value, at_ms)

    def act(self, activity: LeadActivity, at_ms: int | None = None) -> list[OutputRecord]:
        value = AvroCodec(LeadActivity).encode(activity)
        return self.send(TOPICS.activity, activity.lead_id, value, at_ms or activity.occurred_at_ms)

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


def escalations(outputs: list[OutputRecord]) -> list[Escalation]:
    codec = AvroCodec(Escalation)
    return [codec.decode(o.value) for o in outputs if o.topic == TOPICS.escalations]


def requests(outputs: list[OutputRecord]) -> list[RoutingRequest]:
    codec = AvroCodec(RoutingRequest)
    return [codec.decode(o.value) for o in outputs if o.topic == TOPICS.requests]


def test_assignment_starts_a_timer_with_the_pools_policy() -> None:
    h = Harness()
    assert h.assign(make_assignment()) == []
    timer = h.store.get(0, "lead-1")
    assert timer is not None
    assert (timer.status, timer.policy_id, timer.deadline_ms) == (
        TimerStatus.RUNNING,
        "fast",
        DEADLINE,
    )
    assert (timer.manager_id, timer.fallback_pool_id) == ("maria", "global")


def test_business_hours_policy_counts_in_the_owners_office_hours() -> None:
    h = Harness(make_config({"business_hours": True}))
    friday_evening = 1_780_678_800_000  # Fri 2026-06-05 19:00 Berlin
    h.assign(make_assignment(decided_at_ms=friday_evening))
    timer = h.store.get(0, "lead-1")
    monday_0905 = 1_780_902_300_000  # Mon 2026-06-08 09:05 Berlin
    assert timer is not None and timer.deadline_ms == monday_0905


def test_due_timer_fires_escalation_and_reassign_request_with_deterministic_ids() -> None:
    h = Harness()
    h.assign(make_assignment())
    h.store.commit()
    early = escalations(h.handler.tick(0, DEADLINE + GRACE - 1))
    assert [e.step for e in early] == [EscalationStep.NOTIFY]  # the deadline is not due yet
    outputs = h.handler.tick(0, DEADLINE + GRACE)
    (reassign,) = escalations(outputs)
    assert reassign.escalation_id == "lead-1#a1:reassign"
    (request,) = requests(outputs)
    assert (request.kind, request.pool_id, request.previous_owners) == (
        RequestKind.REASSIGN, "inside", ("ann",),
    )  # fmt: skip
    by_topic = {o.topic: o for o in outputs}
    assert by_topic[TOPICS.escalations].key == b"lead-1"
    assert by_topic[TOPICS.requests].key == b"inside"
    assert header(list(by_topic[TOPICS.escalations].headers), "ce_id") == b"lead-1#a1:reassign"
    assert header(list(by_topic[TOPICS.requests].headers), "ce_type") == (
        b"io.leadrouter.routing.reassign"
    )
    timer = h.store.get(0, "lead-1")
    assert timer is not None and timer.status is TimerStatus.AWAITING_OWNER
    assert h.metric("leadrouter_sla_breaches_total", pool="inside", step="reassign") == 1
    assert h.metric("leadrouter_sla_reassignments_total", pool="inside") == 1


def test_a_flood_of_due_timers_spreads_over_ticks_most_overdue_first() -> None:
    h = Harness(max_due_per_tick=2)
    for n, lead_id in enumerate(["lead-c", "lead-a", "lead-b"]):
        h.batch(TOPICS.assignments, lead_id, AvroCodec(Assignment).encode(
            make_assignment(lead_id, decided_at_ms=T0 + n * MINUTE)), T0)  # fmt: skip
    h.store.commit()
    late = T0 + HOUR
    first = list(dict.fromkeys(e.lead_id for e in escalations(h.handler.tick(0, late))))
    h.store.commit()
    second = list(dict.fromkeys(e.lead_id for e in escalations(h.handler.tick(0, late))))
    assert first == ["lead-a", "lead-c"]  # lead-c (assigned first) and lead-a, in key order
    assert second == ["lead-b"]


def test_notify_fires_at_half_the_deadline() -> None:
    h = Harness()
    h.assign(make_assignment())
    (notify,) = escalations(h.handler.tick(0, T0 + 150_000 + GRACE))
    assert (notify.step, notify.target) == (EscalationStep.NOTIFY, "ann")
    assert h.handler.tick(0, T0 + 150_000 + GRACE + 1) == []  # fired once


def test_first_touch_stops_the_timer_and_is_measured() -> None:
    h = Harness()
    h.assign(make_assignment())
    assert h.act(make_activity(occurred_at_ms=T0 + 42_000)) == []
    assert h.handler.tick(0, DEADLINE * 2) == []
    assert h.metric("leadrouter_sla_time_to_first_touch_seconds_sum", pool="inside") == 42.0
    assert h.metric("leadrouter_sla_met_total", pool="inside") == 1
    assert h.metric("leadrouter_sla_due_total", pool="inside") == 1
    assert h.metric("leadrouter_sla_activity_total", type="first_touch", result="applied") == 1


def test_activity_for_an_unknown_lead_is_dead_lettered_with_its_bytes_after_the_wait() -> None:
    h = Harness()
    ghost = make_activity(lead_id="ghost", occurred_at_ms=T0)
    assert h.act(ghost, T0) == []
    assert h.handler.tick(0, T0 + WAIT - 1) == []
    (letter_record,) = h.handler.tick(0, T0 + WAIT)
    letter = AvroCodec(DeadLetter).decode(letter_record.value)
    assert (letter_record.topic, letter.reason) == (TOPICS.dead_letter, "unknown_lead")
    assert "'ghost'" in letter.detail and letter.original_topic == TOPICS.activity
    assert letter.original_value == AvroCodec(LeadActivity).encode(ghost)
    assert h.store.get(0, "ghost") is None
    assert h.metric("leadrouter_sla_unknown_activity_total", type="first_touch") == 1
    # through the loop's sink: the dead-letter alert's metric counts it like any other
    assert h.metric("leadrouter_dead_letters_total", app="sla", reason="unknown_lead") == 1


def test_activity_read_before_its_assignment_is_applied_when_the_assignment_arrives() -> None:
    h = Harness()
    h.act(make_activity(occurred_at_ms=T0 + 100), T0 + 100)
    assert h.assign(make_assignment(), T0 + 200) == []
    timer = h.store.get(0, "lead-1")
    assert timer is not None and timer.status is TimerStatus.TOUCHED and not timer.parked
    assert h.handler.tick(0, DEADLINE * 2) == []
    assert h.metric("leadrouter_sla_activity_total", type="first_touch", result="parked") == 1
    assert h.metric("leadrouter_sla_activity_total", type="first_touch", result="applied") == 1


def test_early_close_releases_the_owner_as_soon_as_the_assignment_arrives() -> None:
    h = Harness()
    h.act(make_activity(ActivityType.DISQUALIFIED, rep_id=None, occurred_at_ms=T0), T0)
    h.act(make_activity(rep_id="ann", occurred_at_ms=T0 + 1), T0 + 1)
    outputs = h.assign(make_assignment(), T0 + 2)
    assert [(r.kind, r.rep_id) for r in requests(outputs)] == [(RequestKind.RELEASE, "ann")]
    letters = [AvroCodec(DeadLetter).decode(o.value) for o in outputs
               if o.topic == TOPICS.dead_letter]  # fmt: skip
    assert [d.reason for d in letters] == ["unknown_lead"]  # the touch came after the close
    assert h.store.get(0, "lead-1") is None


def test_record_keyed_by_something_else_than_the_lead_is_refused() -> None:
    h = Harness()
    value = AvroCodec(Assignment).encode(make_assignment())
    with pytest.raises(PermanentError) as caught:
        h.send(TOPICS.assignments, "inside", value, T0)
    assert caught.value.reason == "key_mismatch"


def test_undecodable_activity_is_refused() -> None:
    with pytest.raises(DecodeError):
        Harness().send(TOPICS.activity, "lead-1", b"{}", T0)


def test_close_releases_the_owners_capacity_and_ends_tracking() -> None:
    h = Harness()
    h.assign(make_assignment())
    outputs = h.act(make_activity(ActivityType.CLOSED_LOST))
    (release,) = requests(outputs)
    assert (release.kind, release.rep_id, release.pool_id) == (RequestKind.RELEASE, "ann", "inside")
    assert h.store.get(0, "lead-1") is None


def test_previous_owners_late_touch_is_counted_not_applied() -> None:
    h = Harness()
    h.assign(make_assignment())
    h.handler.tick(0, DEADLINE + GRACE)
    assert (
        h.act(make_activity(rep_id="ann", occurred_at_ms=DEADLINE - 1), DEADLINE + 2 * GRACE) == []
    )
    timer = h.store.get(0, "lead-1")
    assert timer is not None and timer.status is TimerStatus.AWAITING_OWNER
    assert (
        h.metric("leadrouter_sla_activity_total", type="first_touch", result="previous_owner") == 1
    )


def test_finished_entries_are_purged_after_retention() -> None:
    h = Harness()
    h.assign(make_assignment())
    h.act(make_activity())
    h.store.commit()
    h.handler.tick(0, T0 + 86_400_000)  # not yet idle a full day
    assert h.store.get(0, "lead-1") is not None
    h.handler.tick(0, T0 + MINUTE + 86_400_000 + 1)
    assert h.store.get(0, "lead-1") is None
    assert h.metric("leadrouter_sla_purged_entries_total") == 1


def test_timer_waits_while_the_input_is_read_from_behind_so_a_logged_touch_wins() -> None:
    h = Harness()
    h.assign(make_assignment("lead-1"))
    h.assign(make_assignment("lead-9"))
    # Catching up on a backlog: this batch held a record written long before the deadline.
    old = AvroCodec(LeadActivity).encode(make_activity(lead_id="lead-9", rep_id="mallory"))
    h.batch(TOPICS.activity, "lead-9", old, DEADLINE - 30_000)
    lagging = frozenset({TOPICS.activity})
    behind = escalations(h.handler.tick(0, DEADLINE + 10_000, lagging))
    assert {e.step for e in behind} == {EscalationStep.NOTIFY}  # the deadline waits
    touch = AvroCodec(LeadActivity).encode(make_activity(occurred_at_ms=DEADLINE - 1_000))
    h.batch(TOPICS.activity, "lead-1", touch, DEADLINE - 1_000)
    assert escalations(h.handler.tick(0, DEADLINE + 10_500, lagging)) == []
    caught_up = escalations(h.handler.tick(0, DEADLINE + 11_000))  # read to the end now
    assert [(e.lead_id, e.step) for e in caught_up] == [("lead-9", EscalationStep.REASSIGN)]
    timer = h.store.get(0, "lead-1")
    assert timer is not None and timer.status is TimerStatus.TOUCHED


def test_an_input_not_fetched_yet_holds_timers_back_though_it_delivered_nothing() -> None:
    """Right after an assignment the activity partition may not have answered its first fetch:
    silence from it is not proof that no touch is waiting."""
    h = Harness()
    assignment = AvroCodec(Assignment).encode(make_assignment("lead-1"))
    h.batch(TOPICS.assignments, "lead-1", assignment, T0)
    unread = frozenset({TOPICS.activity})
    assert h.handler.tick(0, T0, unread) == []
    early = escalations(h.handler.tick(0, DEADLINE + GRACE, unread))
    assert [e.step for e in early] == [EscalationStep.NOTIFY]  # due a catch-up bound ago
    touch = AvroCodec(LeadActivity).encode(make_activity(occurred_at_ms=DEADLINE - 1_000))
    h.batch(TOPICS.activity, "lead-1", touch, DEADLINE - 1_000)
    assert escalations(h.handler.tick(0, DEADLINE + GRACE + 200)) == []
    timer = h.store.get(0, "lead-1")
    assert timer is not None and timer.status is TimerStatus.TOUCHED


def test_a_lagging_input_holds_timers_back_no_longer_than_the_catch_up_limit() -> None:
    h = Harness()
    h.assign(make_assignment())
    stale = AvroCodec(Assignment).encode(make_assignment("lead-2"))
    h.batch(TOPICS.assignments, "lead-2", stale, T0)
    lagging = frozenset({TOPICS.assignments, TOPICS.activity})
    held = escalations(h.handler.tick(0, DEADLINE + GRACE + MINUTE - 1, lagging))
    assert EscalationStep.REASSIGN not in {e.step for e in held}
    fired = escalations(h.handler.tick(0, DEADLINE + GRACE + MINUTE, lagging))
    assert ("lead-1", EscalationStep.REASSIGN) in [(e.lead_id, e.step) for e in fired]
