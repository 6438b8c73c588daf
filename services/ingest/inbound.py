"""The leads.inbound record for a lead: identity key as key, Avro value, CloudEvents headers."""

from __future__ import annotations

from functools import cache

from services.leads.events import Lead
from services.streaming.cloudevents import ce_headers
from services.streaming.codec import AvroCodec
from services.streaming.records import OutputRecord

EVENT_TYPE = "io.leadrouter.lead.received"
SCHEMA = "io.leadrouter.Lead"


@cache
def lead_codec() -> AvroCodec[Lead]:
    return AvroCodec(Lead)


def inbound_record(topic: str, lead: Lead) -> OutputRecord:
    headers = ce_headers(
        event_id=lead.lead_id,
        source=f"leadrouter/ingest/{lead.channel.value}",
        event_type=EVENT_TYPE,
        time_ms=lead.received_at_ms,
        subject=lead.lead_id,
        schema=SCHEMA,
    )
    return OutputRecord(
        topic=topic,
        key=lead.identity_key.encode(),
        value=lead_codec().encode(lead),
        headers=tuple(headers),
    )
