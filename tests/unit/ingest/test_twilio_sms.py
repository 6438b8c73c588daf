from __future__ import annotations

import pytest

from services.ingest.rejection import InvalidLead
from services.ingest.twilio_sms import normalize_twilio
from services.leads.events import Channel
from tests.unit.ingest.payloads import NOW_MS, fixture_pairs, make_twilio


def test_twilio_webhook_as_twilio_sends_it_becomes_a_lead() -> None:
    lead = normalize_twilio(fixture_pairs("twilio_inbound_sms.form"), NOW_MS)
    assert lead.channel is Channel.SMS
    assert lead.source_message_id == "SM5f3c4a9e0b7d4f2a8c1e6b9d0a3f7e21"
    assert lead.source == "+14155550123"
    assert lead.phone == "+14155552671"
    assert lead.identity_key == "+14155552671"
    assert lead.country == "US"
    assert lead.region == "CA"
    assert lead.message is not None and lead.message.startswith("Hi, I saw your ad.")
    assert lead.attributes["AccountSid"] == "AC3e9b1f7d2c5a8e4b6f0d9c1a2b3e4f5a"
    assert lead.attributes["FromCity"] == "SAN FRANCISCO"
    assert lead.attributes["transport"] == "sms"
    assert "Body" not in lead.attributes and "From" not in lead.attributes


def test_retried_webhook_keeps_its_lead_id() -> None:
    first = normalize_twilio(make_twilio(), NOW_MS)
    retry = normalize_twilio(make_twilio(), NOW_MS + 30_000)
    assert first.lead_id == retry.lead_id


def test_whatsapp_sender_is_a_phone_with_its_transport_kept() -> None:
    lead = normalize_twilio(make_twilio(From="whatsapp:+4915112345678"), NOW_MS)
    assert lead.phone == "+4915112345678"
    assert lead.attributes["transport"] == "whatsapp"


@pytest.mark.parametrize(
    ("missing", "reason"), [("MessageSid", "missing_field"), ("From", "missing_field")]
)
def test_webhook_without_id_or_sender_is_refused(missing: str, reason: str) -> None:
    with pytest.raises(InvalidLead) as refused:
        normalize_twilio(make_twilio(**{missing: ""}), NOW_MS)
    assert (refused.value.field, refused.value.reason) == (missing, reason)


def test_sender_that_is_not_a_phone_number_is_refused_naming_from() -> None:
    with pytest.raises(InvalidLead) as refused:
        normalize_twilio(make_twilio(From="ACME"), NOW_MS)
    assert refused.value.field == "From"
