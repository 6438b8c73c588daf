"""router/assign: routing requests in, decisions out (input `routing.requests`, keyed by pool).

For each request: decode it (bad bytes are a PermanentError, dead-lettered by the loop with the
original bytes), read the pool's rotation state, `decide`, and return in the same transaction:

- the `Assignment` (key: lead id, CloudEvents headers, deterministic id), or, when the pool
  found nobody eligible and has a fallback, the onward `RoutingRequest` (key: the fallback pool);
- the pool's new rotation state and the lead's `OpenLead` record (written, or deleted when the
  lead is released or moves on), as state-store writes the loop commits with the outputs;
- for an assigned lead, its owner facts on `router.owners` for triage's continuity.

Every request yields exactly one of Assignment or onward request. `config` is
`ActiveConfig.current`: with no routing config published it raises FatalError, and the
process stops rather than decide without one. `presence` gives the presence view of the batch
(the loop refreshes tables between transactions only), whose position each decision records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from services.leads.events import (
    Assignment,
    Lead,
    Outcome,
    RequestKind,
    RoutingRequest,
    operator_act,
)
from services.leads.routing_config import VersionedConfig
from services.router.decisions import Decided, FallBack, Origin, decide, prefer_repeat_owner
from services.router.metrics import Children, RouterMetrics
from services.router.owner_facts import assignment_owner_facts, owner_fact_records
from services.router.presence import PresenceView
from services.router.rotation import OpenLead, RotationRecord, RotationState, open_lead_key
from services.router.rotation_serde import rotation_serde
from services.streaming.cloudevents import ce_headers
from services.streaming.codec import AvroCodec
from services.streaming.records import InputRecord, OutputRecord
from services.streaming.state import StateStore

__all__ = ["AssignHandler", "AssignTopics", "rotation_serde"]

SOURCE = "leadrouter/router"


@dataclass(frozen=True, slots=True)
class AssignTopics:
    requests: str
    assignments: str
    owners: str


class AssignHandler:
    def __init__(
        self,
        *,
        topics: AssignTopics,
        store: StateStore[RotationRecord],
        config: Callable[[], VersionedConfig],
        presence: Callable[[], PresenceView],
        metrics: RouterMetrics,
        monotonic: Callable[[], float],
    ) -> None:
        self.topics = topics
        self.store = store
        self.config = config
        self.presence = presence
        self.metrics = metrics
        self._child = Children()
        self.monotonic = monotonic
        self.requests = AvroCodec(RoutingRequest)
        self.assignments = AvroCodec(Assignment)

    def handle(self, record: InputRecord) -> list[OutputRecord]:
        started = self.monotonic()
        request, lead_bytes = self.requests.decode_keeping(record.value, "lead")
        passed_on = request.lead  # its bytes go out again as they came, not encoded twice
        versioned = self.config()
        self.metrics.config_version.set(versioned.version)
        key, partition = request.pool_id, record.partition
        state = self._state(partition, key)
        request = self._keep_repeat_owner(partition, request)
        lead_key = open_lead_key(key, request.lead_id)
        held = self.store.get(partition, lead_key)
        holder = held.rep_id if isinstance(held, OpenLead) else None
        origin = Origin(record.topic, partition, record.offset, record.timestamp_ms)
        operator = operator_act(record.headers)
        decision = decide(
            versioned, state, self.presence(), request, origin, holder=holder, operator=operator
        )
        if decision.state is not state:
            self.store.put(partition, key, decision.state)
        if decision.holder != holder:
            if decision.holder is None:
                self.store.delete(partition, lead_key)
            else:
                opened = OpenLead(pool_id=key, lead_id=request.lead_id, rep_id=decision.holder)
                self.store.put(partition, lead_key, opened)
        for verdict in decision.verdicts:
            if verdict.skip is not None:
                self._child(self.metrics.skips, key, verdict.skip.value).inc()
        if isinstance(decision, FallBack):
            self._child(self.metrics.fallbacks, key).inc()
            raw = _raw_lead(decision.request.lead, passed_on, lead_bytes)
            outputs = [self._onward(decision.request, raw)]
        else:
            raw = _raw_lead(decision.assignment.lead, passed_on, lead_bytes)
            outputs = self._decided(decision, versioned, raw)
        self.metrics.decision_seconds.observe(self.monotonic() - started)
        return outputs

    def _keep_repeat_owner(self, partition: int, request: RoutingRequest) -> RoutingRequest:
        if request.preferred_owner is not None or request.repeat_of is None:
            return request  # the common case, without a store lookup
        earlier = self.store.get(partition, open_lead_key(request.pool_id, request.repeat_of))
        holder = earlier.rep_id if isinstance(earlier, OpenLead) else None
        return prefer_repeat_owner(request, holder)

    def _state(self, partition: int, pool_id: str) -> RotationState:
        stored = self.store.get(partition, pool_id)
        return stored if isinstance(stored, RotationState) else RotationState.empty(pool_id)

    def _decided(
        self, decision: Decided, versioned: VersionedConfig, raw: dict[str, bytes] | None
    ) -> list[OutputRecord]:
        assignment = decision.assignment
        self._count(decision, versioned)
        headers = ce_headers(
            event_id=assignment.assignment_id,
            source=SOURCE,
            event_type=f"io.leadrouter.assignment.{assignment.outcome.value}",
            time_ms=assignment.decided_at_ms,
            subject=assignment.lead_id,
            schema="io.leadrouter.Assignment",
        )
        outputs = [
            OutputRecord(
                self.topics.assignments,
                assignment.lead_id.encode(),
                self.assignments.encode(assignment, raw=raw),
                tuple(headers),
            )
        ]
        outputs += owner_fact_records(self.topics.owners, assignment_owner_facts(assignment))
        return outputs

    def _onward(self, request: RoutingRequest, raw: dict[str, bytes] | None) -> OutputRecord:
        headers = ce_headers(
            event_id=f"{request.request_id}@{request.pool_id}",
            source=SOURCE,
            event_type=f"io.leadrouter.routing.{request.kind.value}",
            time_ms=request.requested_at_ms,
            subject=request.lead_id,
            schema="io.leadrouter.RoutingRequest",
        )
        return OutputRecord(
            self.topics.requests,
            request.pool_id.encode(),
            self.requests.encode(request, raw=raw),
            tuple(headers),
        )

    def _count(self, decision: Decided, versioned: VersionedConfig) -> None:
        assignment = decision.assignment
        pool, outcome = assignment.pool_id, assignment.outcome
        rep = assignment.rep_id or ""
        self._child(self.metrics.assignments, pool, rep, outcome.value).inc()
        if outcome is Outcome.UNASSIGNED:
            requested = assignment.requested_pool_id
            known = versioned.config.has_pool(requested)  # labels stay bounded by the config
            self._child(self.metrics.unassigned, requested if known else "unknown").inc()
        if outcome is not Outcome.ASSIGNED:
            return
        if assignment.kind is RequestKind.ASSIGN and assignment.attempt == 1:
            waited_ms = max(0, assignment.decided_at_ms - assignment.received_at_ms)
            self._child(self.metrics.speed_to_lead, pool).observe(waited_ms / 1000)
        if versioned.config.has_pool(pool):
            total = sum(m.weight for m in versioned.config.pool(pool).members)
            deviation = decision.state.deviation(total)
            self._child(self.metrics.fairness_deviation, pool).set(deviation)


def _raw_lead(
    lead: Lead | None, passed_on: Lead | None, lead_bytes: bytes | None
) -> dict[str, bytes] | None:
    """The `lead` field's bytes as read, when the output carries that very lead."""
    if lead is None or lead is not passed_on or lead_bytes is None:
        return None
    return {"lead": lead_bytes}
