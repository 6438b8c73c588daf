"""The SMTP door's replies, with an in-memory publisher standing in for the broker."""

from __future__ import annotations

import asyncio

from aiosmtpd.smtp import Envelope
from prometheus_client import CollectorRegistry

from services.ingest.identity import lead_id
from services.ingest.metrics import IngestMetrics
from services.ingest.settings import IngestSettings
from services.ingest.smtp_server import LeadMailHandler
from services.leads.events import Channel
from tests.unit.ingest.payloads import FixedClock, MemoryPublisher, make_email


def handler(publisher: MemoryPublisher) -> LeadMailHandler:
    settings = IngestSettings(smtp_domains=["leads.example.com"])
    return LeadMailHandler(
        settings, publisher, IngestMetrics.create(CollectorRegistry()), FixedClock()
    )


def deliver(smtp: LeadMailHandler, mail: bytes, to: str = "sales@leads.example.com") -> list[str]:
    envelope = Envelope()

    async def session() -> list[str]:
        replies = [await smtp.handle_RCPT(None, None, envelope, to, [])]
        if replies[0].startswith("250"):
            envelope.original_content = envelope.content = mail
            replies.append(await smtp.handle_DATA(None, None, envelope))
        return replies

    return asyncio.run(session())


def test_mail_to_an_accepted_domain_is_250_with_the_lead_id() -> None:
    publisher = MemoryPublisher()
    replies = deliver(handler(publisher), make_email(Message_ID="<m1@example.com>"))
    assert replies == [
        "250 2.1.5 OK",
        f"250 2.0.0 OK lead {lead_id(Channel.EMAIL, '<m1@example.com>')}",
    ]
    assert publisher.leads[0].source == "sales@leads.example.com"


def test_mail_to_another_address_is_refused_at_rcpt() -> None:
    publisher = MemoryPublisher()
    assert deliver(handler(publisher), make_email(), to="ceo@elsewhere.example") == [
        "550 5.1.1 Recipient not accepted here"
    ]
    assert publisher.leads == []


def test_mail_that_cannot_be_a_lead_is_550_naming_the_field() -> None:
    publisher = MemoryPublisher()
    _, reply = deliver(handler(publisher), make_email(sender="nobody"))
    assert reply.startswith("550 5.6.0 Not a usable lead: From: has no email address")
    assert publisher.leads == []


def test_broker_down_is_451_so_the_sender_retries() -> None:
    publisher = MemoryPublisher()
    publisher.down = True
    _, reply = deliver(handler(publisher), make_email())
    assert reply == "451 4.3.0 Lead not stored, try again later"
