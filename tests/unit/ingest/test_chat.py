from __future__ import annotations

import pytest

from services.ingest.chat import normalize_chat
from services.ingest.rejection import InvalidLead
from services.leads.events import Channel
from tests.unit.ingest.payloads import NOW_MS, fixture, make_chat


def test_chat_started_webhook_becomes_a_lead() -> None:
    lead = normalize_chat(fixture("chat_started.json"), NOW_MS)
    assert lead.channel is Channel.CHAT
    assert lead.source == "www.example-saas.com"
    assert lead.source_message_id == "conv_01JD4W7K2Q8N6V3M9X5B1C0ZTY"
    assert (lead.first_name, lead.last_name) == ("Priya", "Raman")
    assert lead.email == "priya.raman@northwind-logistics.co.uk"
    assert lead.identity_key == lead.email
    assert lead.phone == "+442079460018"
    assert (lead.country, lead.language) == ("GB", "en")
    assert lead.company == "Northwind Logistics"
    assert lead.company_domain == "northwind-logistics.co.uk"
    assert lead.page_url == "https://www.example-saas.com/pricing?plan=team"
    assert lead.message == "Hello! Does your router support round robin across two regional teams?"
    assert lead.utm == {"source": "google", "medium": "cpc", "campaign": "uk-routing"}
    assert lead.campaign == "uk-routing"
    assert lead.attributes == {
        "visitor.id": "vis_7QK2M9X4",
        "visitor.city": "London",
        "visitor.browser": "Firefox 133",
        "event": "conversation.started",
        "site_id": "www.example-saas.com",
        "started_at": "2026-11-23T08:41:17.512Z",
        "referrer": "https://www.google.com/",
        "agent_group": "sales-emea",
    }


def test_anonymous_visitor_is_reachable_in_the_chat() -> None:
    lead = normalize_chat(make_chat(visitor={"id": "vis_9"}), NOW_MS)
    assert lead.identity_key == "chat:vis_9"
    assert lead.email is None and lead.phone is None


def test_visitor_field_errors_name_the_visitor_path() -> None:
    with pytest.raises(InvalidLead) as refused:
        normalize_chat(make_chat(visitor={"id": "v", "email": "nope"}), NOW_MS)
    assert refused.value.field == "visitor.email"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"[]", "body"),
        (b"{", "body"),
        (b'{"visitor": {}}', "conversation_id"),
        (b'{"conversation_id": "c", "visitor": "ada"}', "visitor"),
    ],
)
def test_malformed_chat_payload_is_refused(body: bytes, field: str) -> None:
    with pytest.raises(InvalidLead) as refused:
        normalize_chat(body, NOW_MS)
    assert refused.value.field == field
