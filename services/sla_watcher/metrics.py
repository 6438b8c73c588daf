"""The SLA watcher's metrics, served on `SLA_METRICS_PORT` (default 9103).

Labels are bounded: pools, steps, levels, activity types and reasons come from config or closed
enums, partitions from the topic; never a lead or rep id. SLA compliance is
`rate(leadrouter_sla_met_total) / rate(leadrouter_sla_due_total)` per pool.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from services.leads.events import EscalationStep
from services.sla_watcher.effects import Escalated, Fired, FirstTouch, Ignored, Level, Note
from services.streaming.metrics import SLOW_BUCKETS

LATENESS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 300, 900, 3600)
"""Seconds: grace plus tick interval normally; minutes after an outage."""


@dataclass(frozen=True)
class SlaMetrics:
    open_timers: Gauge
    breaches: Counter
    reassignments: Counter
    escalations: Counter
    first_touch_seconds: Histogram
    due: Counter
    met: Counter
    fire_lateness_seconds: Histogram
    activity: Counter
    unknown_activity: Counter
    purged: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> SlaMetrics:
        return cls(
            # Timers whose first-touch clock is running, per input partition this instance owns.
            open_timers=Gauge(
                "leadrouter_sla_open_timers",
                "Leads waiting for a first touch.",
                ["partition"],
                registry=registry,
            ),
            # Steps fired because their due time passed: notify, reassign, escalate.
            breaches=Counter(
                "leadrouter_sla_breaches",
                "SLA steps fired by a passed deadline.",
                ["pool", "step"],
                registry=registry,
            ),
            # Reassign requests sent (missed deadline, rejection, hand-over to the fallback pool).
            reassignments=Counter(
                "leadrouter_sla_reassignments",
                "Reassign requests sent to router/assign.",
                ["pool"],
                registry=registry,
            ),
            # Escalation events, by who they go to: owner, pool, fallback, manager.
            escalations=Counter(
                "leadrouter_sla_escalations",
                "Escalation events written.",
                ["level"],
                registry=registry,
            ),
            # From the assignment to the owner's first touch, acceptance or contact.
            first_touch_seconds=Histogram(
                "leadrouter_sla_time_to_first_touch_seconds",
                "Assignment to first touch.",
                ["pool"],
                buckets=SLOW_BUCKETS,
                registry=registry,
            ),
            # Assignments whose deadline was settled: touched in time, late, or missed.
            due=Counter(
                "leadrouter_sla_due",
                "Assignments with a settled first-touch deadline.",
                ["pool"],
                registry=registry,
            ),
            # Of those, the ones touched on or before the deadline.
            met=Counter(
                "leadrouter_sla_met",
                "Assignments touched by their deadline.",
                ["pool"],
                registry=registry,
            ),
            # How long after its due time a step fired (grace and tick included).
            fire_lateness_seconds=Histogram(
                "leadrouter_sla_timer_fire_lateness_seconds",
                "Fired minus due.",
                ["step"],
                buckets=LATENESS_BUCKETS,
                registry=registry,
            ),
            # Activity applied or ignored (and why), by activity type.
            activity=Counter(
                "leadrouter_sla_activity",
                "Activity records handled.",
                ["type", "result"],
                registry=registry,
            ),
            # Activity for leads the watcher does not track: dead-lettered.
            unknown_activity=Counter(
                "leadrouter_sla_unknown_activity",
                "Activity for untracked leads (dead-lettered).",
                ["type"],
                registry=registry,
            ),
            # Finished entries removed from sla.timers after the retention period.
            purged=Counter(
                "leadrouter_sla_purged_entries",
                "Idle finished entries purged.",
                registry=registry,
            ),
        )

    def observe(self, notes: tuple[Note, ...], activity_type: str | None) -> None:
        """Count what one transition noted; `activity_type` when an activity record caused it."""
        ignored = False
        for note in notes:
            if isinstance(note, FirstTouch):
                self.first_touch_seconds.labels(pool=note.pool_id).observe(note.seconds)
                if note.met is not None:
                    self.due.labels(pool=note.pool_id).inc()
                    if note.met:
                        self.met.labels(pool=note.pool_id).inc()
            elif isinstance(note, Fired):
                self.breaches.labels(pool=note.pool_id, step=note.step.value).inc()
                lateness_s = max(0, note.lateness_ms) / 1000
                self.fire_lateness_seconds.labels(step=note.step.value).observe(lateness_s)
                if note.step is not EscalationStep.NOTIFY:
                    self.due.labels(pool=note.pool_id).inc()  # settled: missed
            elif isinstance(note, Escalated):
                self.escalations.labels(level=note.level.value).inc()
                if note.level in (Level.POOL, Level.FALLBACK):
                    self.reassignments.labels(pool=note.pool_id).inc()
            elif isinstance(note, Ignored):
                ignored = True
                if activity_type is not None:
                    self.activity.labels(type=activity_type, result=note.value).inc()
        if activity_type is not None and not ignored:
            self.activity.labels(type=activity_type, result="applied").inc()
