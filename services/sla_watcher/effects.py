"""What a transition of a lead's SLA entry produces: the new entry, events, and notes.

Events are built here with deterministic ids: `<assignment id>:<step>` for escalations
(`<assignment id>:notify-<n>` for the n-th reminder) and `<assignment id>:<kind>` for routing
requests, so a replay or a retried transaction writes the
same ids and consumers can dedup on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from services.leads.events import Escalation, EscalationStep, RequestKind, RoutingRequest
from services.sla_watcher.timer_state import SlaTimer


class Ignored(StrEnum):
    """Why an input changed nothing: counted, never silent."""

    DUPLICATE_ASSIGNMENT = "duplicate_assignment"
    SAME_OWNER = "same_owner"
    PREVIOUS_OWNER = "previous_owner"
    NOT_OWNER = "not_owner"
    ALREADY_TOUCHED = "already_touched"
    NO_OWNER = "no_owner"
    ALREADY_CLOSED = "already_closed"


@dataclass(frozen=True, slots=True)
class FirstTouch:
    pool_id: str
    seconds: float
    met: bool | None
    """Whether the deadline was met; None when the pool has no SLA policy."""


@dataclass(frozen=True, slots=True)
class Fired:
    """A step fired because its due time passed (not because of a rejection): a breach."""

    pool_id: str
    step: EscalationStep
    lateness_ms: int


@dataclass(frozen=True, slots=True)
class Transition:
    state: SlaTimer | None
    """The entry afterwards; None ends tracking (a tombstone in `sla.timers`)."""
    changed: bool = True
    escalations: tuple[Escalation, ...] = ()
    requests: tuple[RoutingRequest, ...] = ()
    notes: tuple[Note, ...] = ()

    def then(self, other: Transition) -> Transition:
        """This transition followed by `other`, which started from this one's state."""
        return Transition(
            other.state,
            changed=self.changed or other.changed,
            escalations=self.escalations + other.escalations,
            requests=self.requests + other.requests,
            notes=self.notes + other.notes,
        )


def unchanged(timer: SlaTimer | None, why: Ignored | None = None) -> Transition:
    return Transition(timer, changed=False, notes=() if why is None else (why,))


def merge_owners(*groups: tuple[str, ...]) -> tuple[str, ...]:
    """Previous owners in order of first appearance, each once."""
    return tuple(dict.fromkeys(owner for group in groups for owner in group))


def escalation_event(
    timer: SlaTimer,
    step: EscalationStep,
    *,
    target: str | None,
    reason: str,
    due_ms: int,
    now_ms: int,
    number: int | None = None,
) -> Escalation:
    suffix = "" if number is None else f"-{number}"
    return Escalation(
        escalation_id=f"{timer.assignment_id}:{step.value}{suffix}",
        lead_id=timer.lead_id,
        assignment_id=timer.assignment_id,
        pool_id=timer.pool_id,
        policy_id=timer.policy_id,
        step=step,
        rep_id=timer.rep_id,
        target=target,
        attempt=timer.attempt,
        previous_owners=timer.previous_owners,
        reason=reason,
        due_at_ms=due_ms,
        fired_at_ms=now_ms,
    )


def routing_request(
    timer: SlaTimer,
    kind: RequestKind,
    request_id: str,
    *,
    pool_id: str,
    rep_id: str | None,
    reason: str,
    now_ms: int,
    previous_owners: tuple[str, ...] = (),
) -> RoutingRequest:
    """A request to router/assign. On reassign `rep_id` is the owner being replaced, whose
    capacity is freed; on release it is the rep whose capacity is freed."""
    return RoutingRequest(
        request_id=request_id,
        kind=kind,
        lead_id=timer.lead_id,
        pool_id=pool_id,
        lead=timer.lead if kind is RequestKind.REASSIGN else None,
        rep_id=rep_id,
        previous_owners=previous_owners,
        attempt=timer.attempt + 1 if kind is RequestKind.REASSIGN else timer.attempt,
        reason=reason,
        received_at_ms=timer.received_at_ms,
        requested_at_ms=now_ms,
    )


def release_request(
    timer: SlaTimer, *, assignment_id: str, pool_id: str, rep_id: str, reason: str, now_ms: int
) -> RoutingRequest:
    """Free `rep_id`'s capacity in `pool_id`: the lead no longer counts as theirs. The id
    derives from the assignment being released, so a replay writes the same request."""
    return routing_request(
        timer,
        RequestKind.RELEASE,
        f"{assignment_id}:release",
        pool_id=pool_id,
        rep_id=rep_id,
        reason=reason,
        now_ms=now_ms,
    )


class Level(StrEnum):
    """Who an escalation goes to, for the escalations-by-level metric."""

    OWNER = "owner"
    POOL = "pool"
    FALLBACK = "fallback"
    MANAGER = "manager"


@dataclass(frozen=True, slots=True)
class Escalated:
    pool_id: str
    level: Level


Note = FirstTouch | Fired | Escalated | Ignored
