from __future__ import annotations

import asyncio

import pytest
from starlette.requests import Request
from starlette.types import Message

from services.ingest.http_body import multipart_form
from services.ingest.mailgun import normalize_mailgun
from services.ingest.rejection import InvalidLead
from services.leads.events import Attachment, Channel
from tests.unit.ingest.payloads import MAILGUN_BOUNDARY, NOW_MS, fixture


def parse_mailgun_post(body: bytes) -> tuple[tuple[tuple[str, str], ...], tuple[Attachment, ...]]:
    """The fixture through the same multipart reader the HTTP front door uses."""
    content_type = f"multipart/form-data; boundary={MAILGUN_BOUNDARY}".encode()
    scope = {"type": "http", "method": "POST", "headers": [(b"content-type", content_type)]}

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return asyncio.run(multipart_form(Request(scope, receive), body, 1 << 20))


def test_mailgun_inbound_parse_post_becomes_a_lead() -> None:
    fields, files = parse_mailgun_post(fixture("mailgun_inbound_parse.multipart"))
    lead = normalize_mailgun(fields, files, NOW_MS)
    assert lead.channel is Channel.EMAIL
    assert lead.source == "leads@inbound.example-saas.com"
    assert lead.source_message_id == "<CAF4m2xQ7p=9Yk@mail.gmail.com>"
    assert lead.email == "luis.fernandez@acme-industrial.es"
    assert (lead.first_name, lead.last_name) == ("Luis", "Fernández")
    assert lead.company_domain == "acme-industrial.es"
    assert lead.language == "es"
    assert lead.message == "Hola,\n\nWe would like a demo for 60 reps in Spain and Portugal."
    assert lead.attributes["subject"] == "Demo request: 60 reps in Spain and Portugal"
    assert lead.attributes["X-Mailgun-Incoming"] == "Yes"
    assert "signature" not in lead.attributes and "token" not in lead.attributes
    assert lead.attachments == (
        Attachment(filename="org-chart.png", content_type="image/png", size_bytes=33),
    )


def test_html_body_is_used_when_there_is_no_text() -> None:
    fields = (("from", "a@example.com"), ("body-html", "<p>Hi <b>there</b></p>"))
    assert normalize_mailgun(fields, (), NOW_MS).message == "Hi there"


def test_reply_to_in_message_headers_names_the_person() -> None:
    headers = '[["Reply-To", "Ada <ada@acme.io>"]]'
    fields = (("from", "noreply@forms.example"), ("message-headers", headers))
    assert normalize_mailgun(fields, (), NOW_MS).email == "ada@acme.io"


def test_post_without_a_sender_is_refused() -> None:
    with pytest.raises(InvalidLead) as refused:
        normalize_mailgun((("subject", "hi"),), (), NOW_MS)
    assert refused.value.field == "from"


def test_raw_mime_route_post_is_normalized_as_the_raw_message() -> None:
    mime = fixture("outlook_html_only.eml").decode()
    fields = (("recipient", "Leads@Example-SaaS.com"), ("body-mime", mime))
    lead = normalize_mailgun(fields, (), NOW_MS)
    assert lead.email == "sean@obrien-consulting.ie"
    assert lead.source == "leads@example-saas.com"
    assert lead.message is not None and lead.message.startswith("Hi there,")
