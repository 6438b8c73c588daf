from __future__ import annotations

import pytest

from services.ingest.inbound import lead_codec
from services.ingest.raw_topics import raw_handler
from services.ingest.rejection import InvalidLead
from services.leads.events import Channel
from services.streaming.cloudevents import header
from services.streaming.records import InputRecord
from tests.unit.ingest.payloads import NOW_MS, fixture, make_chat, urlencoded

CHANNELS = {"t.leads.raw.chat": "chat", "t.leads.raw.form": "form", "t.leads.raw.sms": "sms",
            "t.leads.raw.email": "email"}  # fmt: skip
handle = raw_handler(CHANNELS, "t.leads.inbound")


def raw(
    channel: str, value: bytes | None, key: bytes | None = b"k1", **headers: str
) -> InputRecord:
    return InputRecord(
        topic=f"t.leads.raw.{channel}", partition=0, offset=7, key=key, value=value,
        timestamp_ms=NOW_MS, headers=tuple((k, v.encode()) for k, v in headers.items()),
    )  # fmt: skip


def test_raw_chat_becomes_an_inbound_record_keyed_by_identity() -> None:
    (out,) = handle(raw("chat", fixture("chat_started.json")))
    lead = lead_codec().decode(out.value or b"")
    assert out.topic == "t.leads.inbound"
    assert out.key == b"priya.raman@northwind-logistics.co.uk"
    assert lead.channel is Channel.CHAT
    assert lead.received_at_ms == NOW_MS
    headers = list(out.headers)
    assert header(headers, "ce_id") == lead.lead_id.encode()
    assert header(headers, "ce_subject") == lead.lead_id.encode()
    assert header(headers, "ce_type") == b"io.leadrouter.lead.received"


def test_replaying_a_raw_record_rebuilds_the_same_record() -> None:
    record = raw("sms", fixture("twilio_inbound_sms.form"))
    assert handle(record) == handle(record)


def test_raw_form_uses_the_key_as_submission_id_and_the_form_id_header() -> None:
    (out,) = handle(raw("form", urlencoded(email="a@example.com"), key=b"sub-1", form_id="pricing"))
    lead = lead_codec().decode(out.value or b"")
    assert (lead.source, lead.source_message_id) == ("pricing", "pricing/sub-1")


def test_raw_sms_may_be_json() -> None:
    value = b'{"MessageSid": "SM9", "From": "+14155552671", "Body": "hi"}'
    (out,) = handle(raw("sms", value))
    assert lead_codec().decode(out.value or b"").phone == "+14155552671"


def test_raw_email_takes_its_recipient_header() -> None:
    (out,) = handle(raw("email", fixture("outlook_html_only.eml"), recipient="leads@example.com"))
    assert lead_codec().decode(out.value or b"").source == "leads@example.com"


@pytest.mark.parametrize(
    ("channel", "value"),
    [("chat", b"not json"), ("chat", make_chat(visitor={"email": "nope"})), ("form", None)],
)
def test_unusable_raw_payload_raises_the_permanent_error_the_loop_dead_letters(
    channel: str, value: bytes | None
) -> None:
    with pytest.raises(InvalidLead):
        handle(raw(channel, value))
