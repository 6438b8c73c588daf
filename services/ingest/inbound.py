"""The leads.inbound record for a lead: identity key as key, Avro value, CloudEvents headers,
and the one size check every door shares.

A lead whose record would be larger than `max_bytes` is refused here, before anything is
written (`LeadTooLarge`: HTTP 413, SMTP 552, a dead letter on the raw topics), so no router
ever meets a lead whose assignment it cannot produce.
"""

from __future__ import annotations

from functools import cache

from services.ingest.rejection import InvalidLead, LeadTooLarge
from services.leads.events import Lead
from services.streaming.cloudevents import ce_headers
from services.streaming.codec import AvroCodec
from services.streaming.records import OutputRecord

EVENT_TYPE = "io.leadrouter.lead.received"
SCHEMA = "io.leadrouter.Lead"
RECORD_OVERHEAD_BYTES = 100
"""Kafka's per-record framing beyond key, value and headers (batch header, varints), rounded up."""


@cache
def lead_codec() -> AvroCodec[Lead]:
    return AvroCodec(Lead)


def inbound_record(topic: str, lead: Lead, max_bytes: int) -> OutputRecord:
    """The record, or `LeadTooLarge` naming `max_bytes` when it would be larger."""
    headers = ce_headers(
        event_id=lead.lead_id,
        source=f"leadrouter/ingest/{lead.channel.value}",
        event_type=EVENT_TYPE,
        time_ms=lead.received_at_ms,
        subject=lead.lead_id,
        schema=SCHEMA,
    )
    try:
        key, value = lead.identity_key.encode(), lead_codec().encode(lead)
    except UnicodeEncodeError:  # build_lead refuses these first; kept so no lead can crash here
        raise InvalidLead("lead", "holds text that is not valid Unicode", "UTF-8 text") from None
    size = len(key) + len(value) + RECORD_OVERHEAD_BYTES
    size += sum(len(name) + len(data or b"") for name, data in headers)
    if size > max_bytes:
        raise LeadTooLarge(
            "lead",
            f"encodes to {size} bytes, more than the {max_bytes}-byte limit for one lead",
            f"at most {max_bytes} bytes: fewer or shorter fields and attachments",
        )
    return OutputRecord(topic=topic, key=key, value=value, headers=tuple(headers))
