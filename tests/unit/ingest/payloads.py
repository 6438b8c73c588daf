"""Fixture payloads (tests/fixtures/ingest), small builders, and the in-memory stand-ins
(publisher, clock) the front doors' unit tests run against."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from services.ingest.forms import FormSubmission
from services.ingest.inbound import inbound_record
from services.ingest.publisher import BrokerUnavailable
from services.ingest.settings import ASSIGNMENT_HEADROOM_BYTES, KAFKA_DEFAULT_MAX_MESSAGE_BYTES
from services.leads.events import Lead
from services.streaming.records import OutputRecord

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ingest"
MAILGUN_BOUNDARY = "----MailgunBoundary7f3a9c2e41d8b6"
NOW_MS = 1_795_424_400_000


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_pairs(name: str) -> tuple[tuple[str, str], ...]:
    """A urlencoded fixture's fields, in order."""
    return tuple(parse_qsl(fixture(name).decode(), keep_blank_values=True))


def make_submission(
    form_id: str = "contact", idempotency_key: str | None = None, **fields: str
) -> FormSubmission:
    pairs = tuple(fields.items()) or (("email", "ada@example.com"),)
    return FormSubmission(
        form_id=form_id, fields=pairs, received_at_ms=NOW_MS, idempotency_key=idempotency_key
    )


def make_chat(**overrides: object) -> bytes:
    document: dict[str, object] = {
        "conversation_id": "conv_1",
        "visitor": {"id": "vis_1", "email": "ada@example.com"},
        "first_message": "Hello",
    }
    document.update(overrides)
    return json.dumps(document).encode()


def make_twilio(**overrides: str) -> tuple[tuple[str, str], ...]:
    params = {"MessageSid": "SM1", "From": "+14155552671", "To": "+14155550123", "Body": "Hi"}
    params.update(overrides)
    return tuple(params.items())


def make_email(
    sender: str = "Ada Lovelace <ada@example.com>", body: str = "Hello", **headers: str
) -> bytes:
    lines = [f"From: {sender}", "To: leads@example.com", "Subject: Hi"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


def nested_multipart(depth: int) -> bytes:
    head = b"From: Ada <ada@example.com>\r\nMessage-ID: <deep@example.com>\r\n"
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (n, n)
        for n in range(depth)
    )
    closing = b"".join(b"\r\n--b%d--\r\n" % n for n in reversed(range(depth)))
    return head + opening + b"Content-Type: text/plain\r\n\r\nhello" + closing


def with_attachments(count: int) -> bytes:
    parts = b"".join(
        b"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
        b'filename="f%d.pdf"\r\n\r\nx\r\n' % n
        for n in range(count)
    )
    head = b'From: ada@example.com\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
    return head + b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n" + parts + b"--b--\r\n"


def urlencoded(**fields: str) -> bytes:
    return urlencode(fields).encode()


class MemoryPublisher:
    """`LeadPublisher` up to the broker: builds (and size-checks) the record, then keeps it."""

    def __init__(
        self, max_lead_bytes: int = KAFKA_DEFAULT_MAX_MESSAGE_BYTES - ASSIGNMENT_HEADROOM_BYTES
    ) -> None:
        self.max_lead_bytes = max_lead_bytes
        self.leads: list[Lead] = []
        self.records: list[OutputRecord] = []
        self.down = False

    async def publish(self, lead: Lead) -> None:
        record = inbound_record("leads.inbound", lead, self.max_lead_bytes)
        if self.down:
            raise BrokerUnavailable("down")
        self.leads.append(lead)
        self.records.append(record)

    async def ready(self) -> bool:
        return not self.down


class FailingPublisher(MemoryPublisher):
    async def publish(self, lead: Lead) -> None:
        raise RuntimeError("a bug in the publisher")


class FixedClock:
    def now_ms(self) -> int:
        return NOW_MS

    def monotonic(self) -> float:
        return 0.0
