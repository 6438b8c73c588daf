"""Records in, records out: assignments and activity start, stop and move lead timers; ticks fire
the due ones.

Every state change, escalation and routing request a record (or a tick) causes is returned to
the loop, which writes them in one transaction with the input offsets, so a crash or rebalance
never loses or repeats a step. Time for record-driven changes is the record's own timestamp
(replays give the same events); a tick's time is the clock's, passed in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from services.leads.events import (
    Assignment,
    LeadActivity,
    Outcome,
)
from services.leads.routing_config import RoutingConfig
from services.sla_watcher.activity_transitions import on_activity
from services.sla_watcher.early_activity import dead_letters, kept, restored, unknown_lead
from services.sla_watcher.effects import Transition
from services.sla_watcher.event_records import escalation_record, request_record
from services.sla_watcher.metrics import SlaMetrics
from services.sla_watcher.policies import owner_context
from services.sla_watcher.steps import fire_due
from services.sla_watcher.timer_state import ParkedRecord, SlaTimer, TimerStatus
from services.sla_watcher.timer_store import TimerStore
from services.sla_watcher.transitions import OwnerContext, on_assignment, park
from services.streaming.codec import AvroCodec
from services.streaming.dead_letters import DeadLetterSink
from services.streaming.errors import FatalError, InvalidRecord
from services.streaming.records import InputRecord, OutputRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatcherTopics:
    assignments: str
    activity: str
    escalations: str
    requests: str
    dead_letter: str


@dataclass(frozen=True)
class WatcherTiming:
    grace_ms: int = 2_000
    """Activity already in the log this long after a deadline still wins over the timer."""
    retention_ms: int = 30 * 86_400_000
    """Finished entries idle this long are purged; later activity for them is dead-lettered."""
    sweep_interval_ms: int = 60_000
    max_catch_up_ms: int = 60_000
    """While the input lags, steps wait for it to be read, but never longer than this."""
    early_activity_wait_ms: int = 5_000
    """Activity read before its lead's assignment waits this long for it."""
    max_due_per_tick: int = 1_000
    """Entries a tick acts on per partition at most, the most overdue first: a flood of due
    timers (after an outage) spreads over ticks, so no transaction outgrows its timeout."""


@dataclass
class SlaHandler:
    """`handle` and `tick` for the processing loop; state lives in `store` only (the fields
    below it are timing hints: losing them changes when a step fires, never whether)."""

    topics: WatcherTopics
    store: TimerStore
    config: Callable[[], RoutingConfig | None]
    metrics: SlaMetrics
    timing: WatcherTiming = field(default_factory=WatcherTiming)
    dead_letters: DeadLetterSink | None = None
    """The loop's sink, for parked activity that is dead-lettered outside a failing `handle`
    (bound by the loop through `Processor.bind_dead_letters`)."""
    _assignments: AvroCodec[Assignment] = field(default_factory=lambda: AvroCodec(Assignment))
    _activity: AvroCodec[LeadActivity] = field(default_factory=lambda: AvroCodec(LeadActivity))
    _last_sweep: dict[int, int] = field(default_factory=dict)
    _read_up_to: dict[tuple[str, int], int] = field(default_factory=dict)
    """Newest record time handled per input partition."""
    _contexts: dict[tuple[str, str | None], OwnerContext] = field(default_factory=dict)
    """`owner_context` per (pool, rep) under `_contexts_of`: a pure function of the config."""
    _contexts_of: RoutingConfig | None = None

    def handle(self, record: InputRecord) -> list[OutputRecord]:
        where = (record.topic, record.partition)
        self._read_up_to[where] = max(self._read_up_to.get(where, 0), record.timestamp_ms)
        if record.topic == self.topics.assignments:
            return self._assignment(record)
        if record.topic == self.topics.activity:
            return self._activity_record(record)
        raise InvalidRecord("unexpected_topic", f"topic: the watcher does not read {record.topic}")

    def tick(
        self, partition: int, now_ms: int, behind: frozenset[str] = frozenset()
    ) -> list[OutputRecord]:
        """Fire every due step of the partition's timers, dead-letter parked activity whose wait
        ran out, and now and then purge idle finished entries. `behind`: the inputs whose
        `partition` the loop has not read to the end."""
        read_up_to = self._input_position(partition, now_ms, behind)
        outputs: list[OutputRecord] = []
        due = self.store.waking(partition, until_ms=now_ms, limit=self.timing.max_due_per_tick)
        for timer in list(due):
            if timer.status is TimerStatus.AWAITING_ASSIGNMENT:
                if timer.deadline_ms is not None and now_ms >= timer.deadline_ms:
                    outputs += self._give_up(partition, timer, now_ms)
                continue
            transition = fire_due(timer, now_ms, self.timing.grace_ms, read_up_to)
            if transition.changed:
                outputs += self._apply(partition, timer.lead_id, transition, None)
        self.metrics.open_timers.labels(partition=str(partition)).set(
            self.store.running_count(partition)
        )
        if now_ms - self._last_sweep.get(partition, 0) >= self.timing.sweep_interval_ms:
            self._last_sweep[partition] = now_ms
            self._purge(partition, now_ms)
        return outputs

    def _input_position(self, partition: int, now_ms: int, behind: frozenset[str]) -> int:
        """How far both inputs of `partition` have been read, as a record time.

        An input read to the end counts as `now_ms`. One that is behind counts as read up to
        the newest record handled from it (nothing yet: not read at all): after a restart with
        a backlog, or while a partition's first fetch is still out, that holds the timers back
        until the activity written before their due time has been read.
        """
        position = now_ms
        for topic in behind:
            position = min(position, self._read_up_to.get((topic, partition), 0))
        return max(position, now_ms - self.timing.max_catch_up_ms)

    # -- inputs ------------------------------------------------------------------------------
    def _assignment(self, record: InputRecord) -> list[OutputRecord]:
        assignment = self._assignments.decode(record.value)
        _require_key(record, assignment.lead_id)
        if assignment.outcome is Outcome.ASSIGNED and assignment.rep_id is None:
            raise InvalidRecord(
                "invalid_assignment",
                f"rep_id: assignment {assignment.assignment_id} is 'assigned' but names no rep",
            )
        current = self.store.get(record.partition, assignment.lead_id)
        parked: tuple[ParkedRecord, ...] = ()
        if current is not None and current.status is TimerStatus.AWAITING_ASSIGNMENT:
            if assignment.outcome is Outcome.RELEASED:
                return []
            parked, current = current.parked, None  # the lead starts here; its activity follows
        config = self.config()
        if assignment.outcome is Outcome.UNASSIGNED:
            last_owner = (
                current.previous_owners[-1] if current and current.previous_owners else None
            )
            context = self._owner_context(config, assignment.requested_pool_id, last_owner)
        else:
            context = self._owner_context(config, assignment.pool_id, assignment.rep_id)
            if context.terms is None and assignment.outcome is Outcome.ASSIGNED:
                log.warning(
                    "lead %s: pool %s has no SLA policy (%s): tracked, not timed",
                    assignment.lead_id,
                    assignment.pool_id,
                    "no routing config loaded" if config is None else "per the routing config",
                )
        transition = on_assignment(current, assignment, context, record.timestamp_ms)
        outputs = self._apply(record.partition, assignment.lead_id, transition, None)
        for early in parked:
            outputs += self._activity_record(restored(early), replayed=True)
        return outputs

    def _owner_context(
        self, config: RoutingConfig | None, pool_id: str, rep_id: str | None
    ) -> OwnerContext:
        """`owner_context`, worked out once per config version, pool and rep: it was a quarter
        of an assignment's CPU, spent on the config's pydantic lookups."""
        if config is not self._contexts_of:
            self._contexts.clear()
            self._contexts_of = config
        context = self._contexts.get((pool_id, rep_id))
        if context is None:
            context = self._contexts[pool_id, rep_id] = owner_context(config, pool_id, rep_id)
        return context

    def _activity_record(self, record: InputRecord, replayed: bool = False) -> list[OutputRecord]:
        """Apply activity; park it when its lead has no assignment yet (see early_activity).

        `replayed`: parked activity applied once the assignment came; if the lead is gone
        again by then (an earlier parked record closed it), it is refused at once.
        """
        activity = self._activity.decode(record.value)
        _require_key(record, activity.lead_id)
        timer = self.store.get(record.partition, activity.lead_id)
        if replayed and timer is None:
            error = unknown_lead(activity.lead_id, activity.activity_id, activity.type.value)
            self.metrics.unknown_activity.labels(type=activity.type.value).inc()
            return [self._sink().letter(record, error, record.timestamp_ms)]
        if timer is None or timer.status is TimerStatus.AWAITING_ASSIGNMENT:
            wait_ms = self.timing.early_activity_wait_ms
            transition = park(timer, kept(record), activity.lead_id, record.timestamp_ms, wait_ms)
            self.metrics.activity.labels(type=activity.type.value, result="parked").inc()
            return self._apply(record.partition, activity.lead_id, transition, None)
        transition = on_activity(timer, activity, record.timestamp_ms)
        return self._apply(record.partition, activity.lead_id, transition, activity.type.value)

    # -- outputs -----------------------------------------------------------------------------
    def _apply(
        self, partition: int, lead_id: str, transition: Transition, activity_type: str | None
    ) -> list[OutputRecord]:
        if transition.changed:
            if transition.state is None:
                self.store.delete(partition, lead_id)
            else:
                self.store.put(partition, lead_id, transition.state)
        self.metrics.observe(transition.notes, activity_type)
        outputs = [escalation_record(self.topics.escalations, e) for e in transition.escalations]
        outputs += [request_record(self.topics.requests, r) for r in transition.requests]
        return outputs

    def _give_up(self, partition: int, entry: SlaTimer, now_ms: int) -> list[OutputRecord]:
        """No assignment came for parked activity in time: dead-letter it, forget the lead."""
        self.store.delete(partition, entry.lead_id)
        reasons = []
        for parked in entry.parked:
            activity = self._activity.decode(parked.value)
            self.metrics.unknown_activity.labels(type=activity.type.value).inc()
            reasons.append(unknown_lead(entry.lead_id, activity.activity_id, activity.type.value))
        return dead_letters(self._sink(), entry, reasons, now_ms)

    def bind_dead_letters(self, sink: DeadLetterSink) -> None:
        self.dead_letters = sink

    def _sink(self) -> DeadLetterSink:
        if self.dead_letters is None:
            raise FatalError("the SLA watcher runs without the loop's dead-letter sink")
        return self.dead_letters

    def _purge(self, partition: int, now_ms: int) -> None:
        idle = self.store.finished_before(partition, now_ms - self.timing.retention_ms)
        for key in idle:
            self.store.delete(partition, key)
        self.metrics.purged.inc(len(idle))


def _require_key(record: InputRecord, lead_id: str) -> None:
    """The record key decides the partition, and the partition holds the lead's timer."""
    if record.key is None or record.key.decode(errors="replace") != lead_id:
        raise InvalidRecord(
            "key_mismatch",
            f"key: expected the lead id {lead_id!r} as the record key, got {record.key!r}",
        )
