"""Builders for assign tests: requests, presence, and a handler on an adopted state store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry

from services.leads.events import (
    Assignment,
    PresenceStatus,
    RepPresence,
    RequestKind,
    RoutingRequest,
)
from services.leads.routing_config import RoutingConfig, VersionedConfig
from services.router.assign import AssignHandler, AssignTopics
from services.router.metrics import RouterMetrics
from services.router.presence import PresenceBook, PresenceView
from services.router.rotation_serde import rotation_serde
from services.streaming.codec import AvroCodec
from services.streaming.records import Headers, InputRecord, OutputRecord
from services.streaming.state import StateStore
from tests.unit.router.config_builders import make_lead

T0 = 1_763_978_400_000  # Mon 2025-11-24 10:00 UTC
TOPICS = AssignTopics(
    requests="routing.requests", assignments="leads.assignments", owners="router.owners"
)
REQUESTS = AvroCodec(RoutingRequest)
ASSIGNMENTS = AvroCodec(Assignment)


def make_request(
    lead_id: str = "lead-1", pool_id: str = "general", **fields: Any
) -> RoutingRequest:
    kind, attempt = fields.get("kind", RequestKind.ASSIGN), fields.get("attempt", 1)
    values: dict[str, Any] = {
        "request_id": f"req-{lead_id}-{kind}-{attempt}",
        "kind": RequestKind.ASSIGN,
        "lead_id": lead_id,
        "pool_id": pool_id,
        "lead": make_lead(lead_id, identity_key=f"person-{lead_id}"),
        "reason": "rule matched",
        "received_at_ms": T0,
        "requested_at_ms": T0,
    }
    values.update(fields)
    return RoutingRequest(**values)


def presence(
    rep_id: str, status: PresenceStatus, at_ms: int = T0 - 1, until_ms: int | None = None
) -> RepPresence:
    return RepPresence(rep_id=rep_id, status=status, until_ms=until_ms, changed_at_ms=at_ms)


@dataclass
class Router:
    """An assign handler over one adopted partition, fed request by request.

    Presence given to `read_presence` is logged as a one-partition `reps.presence` would hold
    it, and decisions record its length as their position; `book.record` bypasses the log.
    """

    config: RoutingConfig
    book: PresenceBook = field(default_factory=PresenceBook)
    presence_log: list[RepPresence] = field(default_factory=list)
    version: int = 1
    offset: int = 0

    def __post_init__(self) -> None:
        self.store = StateStore("router.rotation", rotation_serde())
        self.store.adopt(0)
        self.registry = CollectorRegistry()
        self.handler = AssignHandler(
            topics=TOPICS,
            store=self.store,
            config=lambda: VersionedConfig(self.version, f"hash-{self.version}", self.config),
            presence=lambda: PresenceView(self.book.status_at, (len(self.presence_log),)),
            metrics=RouterMetrics.create(self.registry),
            monotonic=lambda: 0.0,
        )

    def read_presence(self, change: RepPresence) -> None:
        self.presence_log.append(change)
        self.book.record(change)

    def send(self, request: RoutingRequest, headers: Headers = ()) -> list[OutputRecord]:
        record = InputRecord(
            topic=TOPICS.requests,
            partition=0,
            offset=self.offset,
            key=request.pool_id.encode(),
            value=REQUESTS.encode(request),
            timestamp_ms=request.requested_at_ms + 5,
            headers=headers,
        )
        self.offset += 1
        outputs = self.handler.handle(record)
        self.store.flush()
        self.store.commit()
        return outputs

    def decide(self, request: RoutingRequest) -> Assignment:
        """Send, following fallback requests, until the one Assignment comes out."""
        outputs = self.send(request)
        while True:
            decisions = [o for o in outputs if o.topic == TOPICS.assignments]
            onward = [o for o in outputs if o.topic == TOPICS.requests]
            assert len(decisions) + len(onward) == 1, outputs
            if decisions:
                return ASSIGNMENTS.decode(decisions[0].value)
            outputs = self.send(REQUESTS.decode(onward[0].value))
