"""Manual actions: what a person asks for, turned into records and written in one transaction.

Each action writes its `routing.requests` (or `reps.presence`) records and its `admin.audit`
entry in one Kafka transaction, so either the router will see the request and the audit shows
it, or neither happened. Requests go through router/assign like every other, so exactly-once,
rotation state and capacity stay the router's to keep. Every request carries the
`OPERATOR_HEADER` (`manual`, or `override`), so the Assignment's reason names the actor:

- assign to a named rep: a `reassign` request naming the rep as `preferred_owner` (the holder
  is released and excluded, and the strategy picks the preferred rep when eligible; with an
  operator's override the router picks them whatever eligibility says);
- reassign a rep's open leads: one `reassign` request per lead, naming the rep as the owner
  replaced (excluded), picked by the pool's strategy;
- set presence: a `RepPresence` on the compacted `reps.presence`, which the router follows.

The request's `reason` names the actor: `console: alice: <reason>`, and each Assignment's trace
points at its request (`input_topic/partition/offset`), so the lead page shows who asked.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass

from confluent_kafka import KafkaException, Producer

from services.console.tokens import Principal
from services.leads.events import (
    OPERATOR_HEADER,
    AdminAction,
    AdminAudit,
    Lead,
    OperatorAct,
    RepPresence,
    RequestKind,
    RoutingRequest,
)
from services.leads.topics import Topic
from services.streaming.cloudevents import ce_headers
from services.streaming.codec import AvroCodec
from services.streaming.errors import TransientError
from services.streaming.settings import KafkaSettings

SOURCE = "leadrouter/console"


@dataclass(frozen=True, slots=True)
class OpenLead:
    """What the projection knows of a lead an action moves."""

    lead_id: str
    pool_id: str
    rep_id: str | None
    attempt: int
    received_at_ms: int
    lead: Lead | None


def actor_reason(principal: Principal, reason: str) -> str:
    return f"console: {principal.name}: {reason}"


def reassign_request(
    lead: OpenLead, *, principal: Principal, reason: str, now_ms: int, to_rep: str | None
) -> RoutingRequest:
    """A reassign of `lead`: to `to_rep` when named, else by the pool's strategy without the
    current owner."""
    return RoutingRequest(
        request_id=f"console:{uuid.uuid4().hex}",
        kind=RequestKind.REASSIGN,
        lead_id=lead.lead_id,
        pool_id=lead.pool_id,
        lead=lead.lead,
        rep_id=lead.rep_id,
        preferred_owner=to_rep,
        attempt=lead.attempt + 1,
        reason=actor_reason(principal, reason),
        received_at_ms=lead.received_at_ms,
        requested_at_ms=now_ms,
    )


def audit_entry(
    principal: Principal,
    action: AdminAction,
    target: str,
    reason: str,
    now_ms: int,
    *,
    requests: tuple[RoutingRequest, ...] = (),
    detail: dict[str, str] | None = None,
) -> AdminAudit:
    return AdminAudit(
        audit_id=uuid.uuid4().hex,
        actor=principal.name,
        role=principal.role.value,
        action=action,
        target=target,
        reason=reason,
        at_ms=now_ms,
        request_ids=tuple(r.request_id for r in requests),
        detail=detail or {},
    )


class ActionWriter:
    """One transactional producer in the console's instance slot; actions are serialized."""

    def __init__(self, settings: KafkaSettings, instance: int, timeout_s: float = 15.0) -> None:
        self.settings = settings
        self.timeout_s = timeout_s
        self.transactional_id = f"{settings.topic_prefix}leadrouter-console-{instance}"
        self.producer = Producer(settings.transactional_producer(self.transactional_id))
        self.lock = threading.Lock()
        self.ready = False
        self.request_codec = AvroCodec(RoutingRequest)
        self.audit_codec = AvroCodec(AdminAudit)
        self.presence_codec = AvroCodec(RepPresence)

    def write(
        self,
        audit: AdminAudit,
        requests: tuple[RoutingRequest, ...] = (),
        presence: RepPresence | None = None,
        override: bool = False,
    ) -> None:
        """All of it or none of it; TransientError when the broker did not take it.
        `override` marks the requests as an operator's eligibility override."""
        with self.lock:
            try:
                if not self.ready:
                    self.producer.init_transactions(self.timeout_s)
                    self.ready = True
                self.producer.begin_transaction()
                for request in requests:
                    self._request(request, override)
                if presence is not None:
                    self.producer.produce(
                        self.settings.topic(Topic.REPS_PRESENCE),
                        key=presence.rep_id.encode(),
                        value=self.presence_codec.encode(presence),
                    )
                self.producer.produce(
                    self.settings.topic(Topic.ADMIN_AUDIT),
                    key=audit.target.encode(),
                    value=self.audit_codec.encode(audit),
                )
                self.producer.commit_transaction(self.timeout_s)
            except KafkaException as exc:
                self._abort()
                raise TransientError(f"the action was not written: {exc}") from exc

    def _request(self, request: RoutingRequest, override: bool) -> None:
        act = OperatorAct.OVERRIDE if override else OperatorAct.MANUAL
        headers = ce_headers(
            event_id=request.request_id,
            source=SOURCE,
            event_type=f"io.leadrouter.routing.{request.kind.value}",
            time_ms=request.requested_at_ms,
            subject=request.lead_id,
            schema="io.leadrouter.RoutingRequest",
        )
        self.producer.produce(
            self.settings.topic(Topic.ROUTING_REQUESTS),
            key=request.pool_id.encode(),
            value=self.request_codec.encode(request),
            headers=[*headers, (OPERATOR_HEADER, act.value.encode())],
        )

    def _abort(self) -> None:
        try:
            self.producer.abort_transaction(self.timeout_s)
        except KafkaException:
            self.ready = False  # a producer in a fatal state is made anew on the next action
            self.producer = Producer(self.settings.transactional_producer(self.transactional_id))

    def close(self) -> None:
        self.producer.flush(5)
