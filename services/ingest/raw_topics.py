"""The raw-topic front door's handler: a provider's payload on `leads.raw.<channel>` in, the
normalized lead on leads.inbound out, by the same normalizers as HTTP and SMTP.

Payloads, per channel: `email` a raw RFC 5322 message (header `recipient` optional); `sms`
Twilio's webhook parameters, urlencoded or as a JSON object; `chat` the chat webhook JSON;
`form` a JSON object or urlencoded fields (header `form_id`, else `raw`). The record key is the
provider's id: for forms it is the submission id. A payload that cannot be normalized raises
`InvalidLead` (a `PermanentError`), which the loop dead-letters with the original bytes. The
lead's `received_at_ms` is the record's timestamp, so a replay rebuilds the same lead.
No signatures here: who may write these topics is the broker's ACLs' business.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from services.ingest.chat import normalize_chat
from services.ingest.email_mime import normalize_email_message
from services.ingest.forms import (
    FormSubmission,
    normalize_form,
    parse_json_object,
    parse_urlencoded,
)
from services.ingest.inbound import inbound_record
from services.ingest.rejection import InvalidLead
from services.ingest.twilio_sms import normalize_twilio
from services.leads.events import Lead
from services.streaming.cloudevents import header
from services.streaming.records import InputRecord, OutputRecord

RawNormalizer = Callable[[InputRecord, bytes], Lead]


def _text_header(record: InputRecord, name: str) -> str | None:
    value = header(list(record.headers), name)
    return value.decode("utf-8", "replace") if value else None


def _fields(value: bytes) -> tuple[tuple[str, str], ...]:
    return parse_json_object(value) if value.lstrip().startswith(b"{") else parse_urlencoded(value)


def _email(record: InputRecord, value: bytes) -> Lead:
    recipient = _text_header(record, "recipient")
    return normalize_email_message(value, recipient, record.timestamp_ms)


def _sms(record: InputRecord, value: bytes) -> Lead:
    return normalize_twilio(_fields(value), record.timestamp_ms)


def _chat(record: InputRecord, value: bytes) -> Lead:
    return normalize_chat(value, record.timestamp_ms)


def _form(record: InputRecord, value: bytes) -> Lead:
    key = record.key.decode("utf-8", "replace") if record.key else None
    submission = FormSubmission(
        form_id=(_text_header(record, "form_id") or "raw")[:100],
        fields=_fields(value),
        received_at_ms=record.timestamp_ms,
        idempotency_key=key,
    )
    return normalize_form(submission)


NORMALIZERS: Mapping[str, RawNormalizer] = {
    "email": _email,
    "sms": _sms,
    "chat": _chat,
    "form": _form,
}


def raw_handler(
    channels: Mapping[str, str], inbound_topic: str, max_lead_bytes: int
) -> Callable[[InputRecord], list[OutputRecord]]:
    """`channels` maps each (prefixed) raw topic to its channel name, a key of `NORMALIZERS`.
    A lead whose record would pass `max_lead_bytes` is dead-lettered (`LeadTooLarge`)."""

    def handle(record: InputRecord) -> list[OutputRecord]:
        if record.value is None:
            raise InvalidLead("value", "is empty (a tombstone)", "a provider payload", "malformed")
        normalize = NORMALIZERS[channels[record.topic]]
        lead = normalize(record, record.value)
        return [inbound_record(inbound_topic, lead, max_lead_bytes)]

    return handle
