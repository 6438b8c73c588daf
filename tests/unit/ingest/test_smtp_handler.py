"""The SMTP door's replies, with an in-memory publisher standing in for the broker."""

from __future__ import annotations

import asyncio

from aiosmtpd.smtp import Envelope
from prometheus_client import CollectorRegistry

from services.ingest.email_mime import MAX_PARTS
from services.ingest.identity import lead_id
from services.ingest.metrics import IngestMetrics
from services.ingest.settings import ASSIGNMENT_HEADROOM_BYTES, IngestSettings
from services.ingest.smtp_server import MAX_RECIPIENTS, LeadMailHandler
from services.leads.events import Channel
from tests.unit.ingest.payloads import (
    FailingPublisher,
    FixedClock,
    MemoryPublisher,
    make_email,
    nested_multipart,
    with_attachments,
)


def handler(publisher: MemoryPublisher, **settings: object) -> LeadMailHandler:
    config = IngestSettings(smtp_domains=["leads.example.com"], **settings)  # type: ignore[arg-type]
    publisher.max_lead_bytes = config.max_lead_bytes
    return LeadMailHandler(
        config, publisher, IngestMetrics.create(CollectorRegistry()), FixedClock()
    )


class Connection:
    """Stands in for aiosmtpd's per-connection session."""


def deliver(smtp: LeadMailHandler, mail: bytes, to: str = "sales@leads.example.com") -> list[str]:
    envelope = Envelope()

    async def session() -> list[str]:
        replies = [await smtp.handle_RCPT(None, Connection(), envelope, to, [])]
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


def test_recipient_whose_bytes_are_not_utf8_is_refused_at_rcpt() -> None:
    publisher = MemoryPublisher()
    # aiosmtpd hands undecodable bytes 0xFF 0xFE over as lone surrogates
    to = b"\xff\xfe@leads.example.com".decode("utf-8", "surrogateescape")
    assert deliver(handler(publisher), make_email(), to=to) == [
        "553 5.1.3 Recipient address is not valid UTF-8"
    ]
    assert publisher.leads == []


def test_recipients_past_the_limit_on_one_connection_are_452() -> None:
    smtp = handler(MemoryPublisher())
    connection, envelope = Connection(), Envelope()

    async def rcpts(count: int) -> list[str]:
        return [
            await smtp.handle_RCPT(None, connection, envelope, f"r{n}@leads.example.com", [])
            for n in range(count)
        ]

    replies = asyncio.run(rcpts(MAX_RECIPIENTS + 2))
    assert set(replies[:MAX_RECIPIENTS]) == {"250 2.1.5 OK"}
    assert (
        replies[MAX_RECIPIENTS:]
        == [f"452 4.5.3 Too many recipients: at most {MAX_RECIPIENTS} per connection"] * 2
    )
    assert len(envelope.rcpt_tos) == MAX_RECIPIENTS


def test_message_nested_a_thousand_levels_is_550_naming_the_depth() -> None:
    publisher = MemoryPublisher()
    _, reply = deliver(handler(publisher), nested_multipart(1000))
    assert reply.startswith("550 5.6.0 Not a usable lead: body: nests MIME parts more than")
    assert publisher.leads == []


def test_attachment_flood_is_552_naming_the_limit() -> None:
    publisher = MemoryPublisher()
    _, reply = deliver(handler(publisher), with_attachments(12_000))
    assert reply == (
        f"552 5.3.4 Lead too large: body: has more than {MAX_PARTS} MIME parts; "
        f"expected at most {MAX_PARTS} parts"
    )
    assert publisher.leads == []


def test_lead_too_large_for_the_topic_is_552_not_451() -> None:
    publisher = MemoryPublisher()
    smtp = handler(publisher, topic_max_message_bytes=ASSIGNMENT_HEADROOM_BYTES + 2_000)
    _, reply = deliver(smtp, make_email(body="long text " * 300))
    assert reply.startswith("552 5.3.4 Lead too large: lead: encodes to")
    assert "2000-byte limit" in reply
    assert publisher.leads == []


def test_message_that_fails_on_our_side_is_451_and_counted() -> None:
    smtp = handler(FailingPublisher())
    _, reply = deliver(smtp, make_email())
    assert reply.startswith("451 4.3.0")
    assert smtp.metrics.errors.labels(door="smtp", channel="email")._value.get() == 1
