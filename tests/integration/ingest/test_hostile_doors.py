"""Issue 15's hostile probes that need the real doors: header bytes on a real socket, SMTP
commands as bytes, bodies abandoned mid-way, and leads too large for the real publisher or
the raw-topic door. Each is refused with the status naming its problem, nothing is written,
and the service keeps serving."""

from __future__ import annotations

import json
import smtplib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from confluent_kafka import Producer

from services.ingest.email_mime import MAX_PARTS
from services.ingest.settings import ASSIGNMENT_HEADROOM_BYTES
from services.ingest.smtp_server import MAX_RECIPIENTS
from services.leads.events import DeadLetter
from services.leads.topics import raw_topic
from services.streaming.admin import create_topics
from services.streaming.codec import AvroCodec
from services.streaming.settings import KafkaSettings
from tests.integration.ingest.running import Ingest, read_inbound, read_topic, running_ingest
from tests.unit.ingest.payloads import make_chat, make_email, nested_multipart, with_attachments

pytestmark = pytest.mark.integration

LEAD_LIMIT = 20_000
"""A small topic limit, so a lead past it is cheap to build."""
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def kafka(kafka_bootstrap: str) -> KafkaSettings:
    settings = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=f"h{time.time_ns()}.")
    create_topics(settings, partitions=2)
    return settings


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ingest") / "ingest.log"


@pytest.fixture(scope="module")
def ingest(kafka: KafkaSettings, log_path: Path) -> Iterator[Ingest]:
    with running_ingest(
        kafka,
        log_path=log_path,
        smtp_domains="leads.example.com",
        mailgun_signing_key="mailgun-key",
        topic_max_message_bytes=str(ASSIGNMENT_HEADROOM_BYTES + LEAD_LIMIT),
    ) as service:
        yield service
    assert service.process.returncode == 0


def smtp_reply(smtp: smtplib.SMTP, line: bytes) -> tuple[int, bytes]:
    smtp.send(line + b"\r\n")
    return smtp.getreply()


@pytest.mark.parametrize(
    "headers",
    [
        {"x-padding": "a" * (1 << 20)},
        {"x-padding": "a" * (8 << 20)},
        {f"x-h{n}": "1" for n in range(20_000)},
    ],
    ids=["1 MiB header", "8 MiB header", "20,000 headers"],
)
def test_oversized_or_countless_headers_are_431_on_the_wire(
    ingest: Ingest, headers: dict[str, str]
) -> None:
    answer = httpx.post(
        f"{ingest.http}/v1/leads/chat", content=make_chat(), headers={**JSON, **headers},
        timeout=60,
    )  # fmt: skip
    assert answer.status_code == 431
    assert answer.json()["reason"] == "headers_too_large"


def test_raw_mime_post_is_refused_unsigned_when_a_mailgun_key_is_set(ingest: Ingest) -> None:
    answer = httpx.post(
        f"{ingest.http}/v1/leads/email", content=make_email(),
        headers={"content-type": "message/rfc822"},
    )  # fmt: skip
    assert (answer.status_code, answer.json()["field"]) == (401, "X-Leadrouter-Signature")


def test_chat_lead_past_the_topic_limit_is_413_and_never_written(
    ingest: Ingest, kafka: KafkaSettings
) -> None:
    conversation = f"big-{time.time_ns()}"
    body = make_chat(conversation_id=conversation, **{f"n{i}": "x" * 1900 for i in range(40)})
    answer = httpx.post(f"{ingest.http}/v1/leads/chat", content=body, headers=JSON)
    assert (answer.status_code, answer.json()["field"]) == (413, "lead")
    assert f"{LEAD_LIMIT}-byte limit" in answer.json()["detail"]
    written = read_inbound(kafka, 0, lambda w: w.lead.source_message_id == conversation)
    assert written == []


def test_smtp_recipients_not_utf8_or_past_the_limit_are_refused_at_rcpt(ingest: Ingest) -> None:
    with smtplib.SMTP("127.0.0.1", ingest.smtp_port, timeout=60) as smtp:
        smtp.ehlo()
        assert smtp_reply(smtp, b"MAIL FROM:<ada@example.com> SMTPUTF8")[0] == 250
        assert smtp_reply(smtp, b"RCPT TO:<\xff\xfe@leads.example.com>")[0] == 553
        codes = [smtp_reply(smtp, b"RCPT TO:<r%d@leads.example.com>" % n)[0]
                 for n in range(MAX_RECIPIENTS + 1)]  # fmt: skip
        assert codes == [250] * MAX_RECIPIENTS + [452]
    assert ingest.process.poll() is None


@pytest.mark.parametrize(
    ("mail", "code", "text"),
    [
        (nested_multipart(1000), 550, b"nests MIME parts more than"),
        (with_attachments(12_000), 552, b"more than %d MIME parts" % MAX_PARTS),
        (
            with_attachments(90).replace(b'filename="', b'filename="' + b"n" * 240),
            552,
            b"%d-byte limit" % LEAD_LIMIT,
        ),
    ],
    ids=["nested 1,000 levels", "12,000 attachments", "past the topic limit"],
)
def test_smtp_message_that_cannot_be_a_lead_is_refused_naming_the_problem(
    ingest: Ingest, mail: bytes, code: int, text: bytes
) -> None:
    with (
        smtplib.SMTP("127.0.0.1", ingest.smtp_port, timeout=60) as smtp,
        pytest.raises(smtplib.SMTPDataError) as refused,
    ):
        smtp.sendmail("ada@example.com", ["sales@leads.example.com"], mail)
    assert refused.value.smtp_code == code
    assert text in refused.value.smtp_error
    assert ingest.process.poll() is None


def test_bodies_abandoned_midway_leave_no_error_in_the_log(ingest: Ingest, log_path: Path) -> None:
    port = int(ingest.http.rpartition(":")[2])
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            client.sendall(
                b"POST /v1/leads/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 5000\r\n\r\n" + b'{"conversation_id": "c' + b"x" * 100
            )
    assert httpx.get(f"{ingest.http}/healthz").status_code == 200
    time.sleep(1)  # let the server notice every disconnect
    log = log_path.read_text(errors="replace")
    assert "ERROR" not in log and "Traceback" not in log


def test_raw_chat_with_a_lone_surrogate_is_dead_lettered_and_the_next_one_lands(
    ingest: Ingest, kafka: KafkaSettings
) -> None:
    bad = make_chat(conversation_id="@").replace(b'"@"', b'"\\ud800"')
    good_id = f"after-{time.time_ns()}"
    producer = Producer(kafka.producer())
    producer.produce(kafka.topic(raw_topic("chat")), key=b"k", value=bad)
    producer.produce(
        kafka.topic(raw_topic("chat")), key=b"k", value=make_chat(conversation_id=good_id)
    )
    assert producer.flush(10) == 0
    assert len(read_inbound(kafka, 1, lambda w: w.lead.source_message_id == good_id)) == 1
    letters = [
        AvroCodec(DeadLetter).decode(record.value or b"")
        for record in read_topic(kafka, "leads.dead-letter", expected=1)
    ]
    assert [(letter.reason, letter.original_value) for letter in letters] == [
        ("invalid_field", bad)
    ]
    assert "conversation_id" in letters[0].detail
    assert ingest.process.poll() is None
    json.loads(bad)  # the payload itself is valid JSON: only its text is not valid Unicode
