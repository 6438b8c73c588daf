from __future__ import annotations

import pytest

from services.ingest.email_mime import normalize_email_message
from services.ingest.rejection import InvalidLead
from services.leads.events import Attachment, Channel
from tests.unit.ingest.payloads import NOW_MS, fixture, make_email


def test_thunderbird_multipart_mail_with_html_part_and_attachment() -> None:
    lead = normalize_email_message(fixture("thunderbird_multipart.eml"), None, NOW_MS)
    assert lead.channel is Channel.EMAIL
    assert lead.source == "sales@example-saas.com"
    assert lead.source_message_id == "<9b1f3c2e-5d7a-4e11-8c0a-2f6b4d9e1a73@kowalski-logistyka.pl>"
    assert lead.email == "marta.kowalska@kowalski-logistyka.pl"
    assert (lead.first_name, lead.last_name) == ("Marta", "Kowalska")
    assert lead.company_domain == "kowalski-logistyka.pl"
    assert lead.language == "pl"
    assert lead.message is not None
    assert lead.message.startswith("Dzień dobry,\n\nprosimy o ofertę dla 25 handlowców.")
    assert "<p>" not in lead.message
    assert lead.attributes["subject"] == "Zapytanie ofertowe \u2013 routing leadów"
    assert lead.attachments == (
        Attachment(
            filename="wymagania-routing.pdf", content_type="application/pdf", size_bytes=210
        ),
    )


def test_html_only_mail_is_converted_to_text_and_reply_to_is_the_person() -> None:
    lead = normalize_email_message(
        fixture("outlook_html_only.eml"), "leads@example-saas.com", NOW_MS
    )
    assert (
        lead.message
        == "Hi there,\n\nCould you send a quote for 10 seats? We are in Dublin.\n\nThanks,\nSeán"
    )
    assert lead.email == "sean@obrien-consulting.ie"
    assert (lead.first_name, lead.last_name) == ("Seán", "O'Brien")
    assert lead.attributes["subject"] == "Quote request \u2013 10 seats"
    assert lead.language == "en"


def test_envelope_recipient_is_the_source() -> None:
    lead = normalize_email_message(make_email(), "Sales@Example.com", NOW_MS)
    assert lead.source == "sales@example.com"


def test_message_without_message_id_gets_a_stable_id_from_its_bytes() -> None:
    first = normalize_email_message(make_email(body="one"), None, NOW_MS)
    again = normalize_email_message(make_email(body="one"), None, NOW_MS + 1)
    other = normalize_email_message(make_email(body="two"), None, NOW_MS)
    assert first.lead_id == again.lead_id != other.lead_id
    assert first.source_message_id.startswith("sha256:")


def test_mail_without_a_sender_address_is_refused_naming_from() -> None:
    with pytest.raises(InvalidLead) as refused:
        normalize_email_message(make_email(sender="undisclosed"), None, NOW_MS)
    assert (refused.value.field, refused.value.reason) == ("From", "missing_field")


def test_bytes_that_are_not_mail_are_refused() -> None:
    with pytest.raises(InvalidLead):
        normalize_email_message(b"\x00\xff garbage", None, NOW_MS)
