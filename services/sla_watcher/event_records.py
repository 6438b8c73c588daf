"""The watcher's output records: escalations keyed by lead id, routing requests keyed by pool id,
each with CloudEvents headers whose `ce_id` is the event's deterministic id."""

from __future__ import annotations

from functools import cache

from services.leads.events import Escalation, RoutingRequest
from services.streaming.cloudevents import ce_headers
from services.streaming.codec import AvroCodec
from services.streaming.records import OutputRecord

SOURCE = "leadrouter/sla-watcher"


@cache
def _escalation_codec() -> AvroCodec[Escalation]:
    return AvroCodec(Escalation)


@cache
def _request_codec() -> AvroCodec[RoutingRequest]:
    return AvroCodec(RoutingRequest)


def escalation_record(topic: str, escalation: Escalation) -> OutputRecord:
    headers = ce_headers(
        event_id=escalation.escalation_id,
        source=SOURCE,
        event_type=f"io.leadrouter.escalation.{escalation.step.value}",
        time_ms=escalation.fired_at_ms,
        subject=escalation.lead_id,
        schema="io.leadrouter.Escalation",
    )
    value = _escalation_codec().encode(escalation)
    return OutputRecord(topic, escalation.lead_id.encode(), value, tuple(headers))


def request_record(topic: str, request: RoutingRequest) -> OutputRecord:
    """Keyed by pool id: router/assign keeps each pool's rotation in one partition."""
    headers = ce_headers(
        event_id=request.request_id,
        source=SOURCE,
        event_type=f"io.leadrouter.routing.{request.kind.value}",
        time_ms=request.requested_at_ms,
        subject=request.lead_id,
        schema="io.leadrouter.RoutingRequest",
    )
    value = _request_codec().encode(request)
    return OutputRecord(topic, request.pool_id.encode(), value, tuple(headers))
