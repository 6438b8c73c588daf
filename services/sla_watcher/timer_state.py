"""The watcher's state for one lead: the twin of `schemas/SlaTimer.avsc`, kept in `sla.timers`.

One entry per lead id, from its first assignment until it is closed (or idle past retention),
so late activity is recognised and closing a lead always finds the owner whose capacity to free.
Activity read before any assignment of its lead waits here too (`awaiting_assignment`), since
the two input topics are read side by side and a fast CRM can overtake the assignment.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from services.leads.events import EscalationStep, Lead
from services.sla_watcher.deadlines import deadline_step, is_due


class TimerStatus(StrEnum):
    RUNNING = "running"
    AWAITING_OWNER = "awaiting_owner"
    TOUCHED = "touched"
    ESCALATED = "escalated"
    CLOSED = "closed"
    AWAITING_ASSIGNMENT = "awaiting_assignment"


FINISHED = frozenset({TimerStatus.TOUCHED, TimerStatus.ESCALATED, TimerStatus.CLOSED})
"""Stopped for good: kept only so late activity is recognised, purged once idle."""


class ParkedRecord(BaseModel):
    """An input record kept whole in state (activity that came before its assignment)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: str
    partition: int
    offset: int
    key: bytes | None = None
    value: bytes | None = None
    timestamp_ms: int


class SlaTimer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    status: TimerStatus
    updated_at_ms: int
    lead_id: str
    assignment_id: str
    pool_id: str
    policy_id: str
    rep_id: str | None = None
    manager_id: str | None = None
    fallback_pool_id: str | None = None
    previous_owners: tuple[str, ...] = ()
    attempt: int
    reassignments: int = 0
    fallback_used: bool = False
    received_at_ms: int
    assigned_at_ms: int
    notify_due_ms: tuple[int, ...] = ()
    notified: int = 0
    deadline_ms: int | None = None
    max_reassignments: int = 0
    escalate_to: str = "manager"
    touched_at_ms: int | None = None
    lead: Lead | None = None
    parked: tuple[ParkedRecord, ...] = ()

    def next_step(self) -> tuple[EscalationStep, int] | None:
        """The next step this timer will fire and when it is due; None when it is stopped.

        Notify steps always come before the deadline's step, even when all are overdue.
        """
        if self.status is not TimerStatus.RUNNING or self.deadline_ms is None:
            return None
        if self.notified < len(self.notify_due_ms):
            return EscalationStep.NOTIFY, self.notify_due_ms[self.notified]
        return deadline_step(self.reassignments, self.max_reassignments), self.deadline_ms

    def wakes_at(self) -> int | None:
        """When a tick next has something to do for this entry: a step, or giving up on parked
        activity (its `deadline_ms`); None when only an input can move it."""
        if self.status is TimerStatus.AWAITING_ASSIGNMENT:
            return self.deadline_ms
        step = self.next_step()
        return None if step is None else step[1]

    @property
    def wakes_at_ms(self) -> int | None:
        """`wakes_at()`, as the schema's first field: what the timer store indexes."""
        return self.wakes_at()

    def due_step(self, now_ms: int, grace_ms: int) -> tuple[EscalationStep, int] | None:
        step = self.next_step()
        if step is None or not is_due(step[1], now_ms, grace_ms):
            return None
        return step
