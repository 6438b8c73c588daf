from __future__ import annotations

import pytest

from services.ingest.inbound import lead_codec
from services.ingest.raw_topics import raw_handler
from services.ingest.rejection import InvalidLead, LeadTooLarge
from services.leads.events import Channel
from services.streaming.cloudevents import header
from services.streaming.records import InputRecord
from tests.unit.ingest.payloads import NOW_MS, fixture, make_chat, urlencoded

CHANNELS = {"t.leads.raw.chat": "chat", "t.leads.raw.form": "form", "t.leads.raw.sms": "sms",
            "t.leads.raw.email": "email"}  # fmt: skip
handle = raw_handler(CHANNELS, "t.leads.inbound", 900_000)


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


LONE_SURROGATE = '"\\ud800"'
"""As JSON spells it: json.loads turns it into a str no UTF-8 encoder accepts."""


@pytest.mark.parametrize(
    ("channel", "value", "field"),
    [
        ("chat", make_chat(conversation_id="@").replace(b'"@"', b'"\\ud800"'), "conversation_id"),
        ("chat", make_chat(site_id="@").replace(b'"@"', b'"\\ud800"'), "site_id"),
        ("chat", make_chat(visitor={"id": "v", "email": "@"}).replace(b'"@"', b'"\\udfff"'),
         "visitor.email"),
        ("chat", make_chat(utm={"source": "@"}).replace(b'"@"', b'"\\ud800"'), "utm.source"),
        ("chat", b'{"conversation_id": "c", "visitor": {"email": "a@b.io"}, "\\ud800": 1}',
         "\\ud800"),
        ("form", b'{"email": "a@b.io", "company": "\\ud800"}', "company"),
        ("sms", b'{"MessageSid": "SM9", "From": "+14155552671", "Body": "\\ud800"}', "Body"),
    ],
)  # fmt: skip
def test_lone_surrogate_in_any_raw_field_is_invalid_lead_naming_the_field(
    channel: str, value: bytes, field: str
) -> None:
    with pytest.raises(InvalidLead) as refused:
        handle(raw(channel, value))
    assert refused.value.field == field


def test_raw_lead_too_large_for_the_topic_is_a_permanent_refusal_naming_the_limit() -> None:
    small = raw_handler(CHANNELS, "t.leads.inbound", 100_000)
    attributes = {f"a{n}": "\U0001f600" * 2000 for n in range(20)}  # 4 bytes a character
    with pytest.raises(LeadTooLarge) as refused:
        small(raw("chat", make_chat(**attributes)))
    assert refused.value.field == "lead"
    assert "100000-byte limit" in refused.value.problem
