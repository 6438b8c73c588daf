"""Every channel end to end on the real broker: a real client, the running service, and what
lands on leads.inbound (or leads.dead-letter), read back with a read_committed consumer."""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import TypedDict
from urllib.parse import parse_qsl

import httpx
import pytest
from confluent_kafka import Producer
from twilio.request_validator import RequestValidator

from services.leads.events import Channel, DeadLetter
from services.leads.topics import raw_topic
from services.streaming.admin import create_topics
from services.streaming.codec import AvroCodec
from services.streaming.settings import KafkaSettings
from tests.integration.ingest.running import Ingest, read_inbound, read_topic, running_ingest
from tests.unit.ingest.payloads import MAILGUN_BOUNDARY, fixture

pytestmark = pytest.mark.integration

PUBLIC = "https://leads.example.com"


class Secrets(TypedDict):
    """The service's `INGEST_*` settings here: typed, so they cannot bind another argument."""

    twilio_auth_token: str
    chat_secret: str
    mailgun_signing_key: str
    email_secret: str
    forms: str
    public_base_url: str
    smtp_domains: str


SECRETS: Secrets = {
    "twilio_auth_token": "twilio-token",
    "chat_secret": "chat-secret",
    "mailgun_signing_key": "mailgun-key",
    "email_secret": "mime-secret",
    "forms": json.dumps({"contact": {"secret": "form-secret", "honeypot": "website"}}),
    "public_base_url": PUBLIC,
    "smtp_domains": "leads.example.com",
}


@pytest.fixture(scope="module")
def kafka(kafka_bootstrap: str) -> KafkaSettings:
    settings = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=f"t{time.time_ns()}.")
    create_topics(settings, partitions=4)
    return settings


@pytest.fixture(scope="module")
def ingest(kafka: KafkaSettings) -> Iterator[Ingest]:
    with running_ingest(kafka, **SECRETS) as service:
        yield service
    assert service.process.returncode == 0  # SIGTERM stopped all three doors cleanly


def hmac_hex(secret: str, data: bytes) -> str:
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def post_form(ingest: Ingest) -> httpx.Response:
    body = fixture("html_form_utf8.form")
    t = int(time.time())
    signature = f"t={t},v1={hmac_hex('form-secret', f'{t}.'.encode() + body)}"
    headers = {"content-type": "application/x-www-form-urlencoded",
               "x-leadrouter-signature": signature}  # fmt: skip
    return httpx.post(f"{ingest.http}/v1/leads/forms/contact", content=body, headers=headers)


def post_twilio(ingest: Ingest, tamper: bool = False) -> httpx.Response:
    body = fixture("twilio_inbound_sms.form")
    url = f"{PUBLIC}/v1/leads/sms/twilio"
    signature = RequestValidator("twilio-token").compute_signature(
        url, dict(parse_qsl(body.decode()))
    )
    sent = body.replace(b"40+seats", b"400+seats") if tamper else body
    headers = {"content-type": "application/x-www-form-urlencoded",
               "x-twilio-signature": signature}  # fmt: skip
    return httpx.post(f"{ingest.http}/v1/leads/sms/twilio", content=sent, headers=headers)


def post_chat(ingest: Ingest) -> httpx.Response:
    body = fixture("chat_started.json")
    headers = {"content-type": "application/json",
               "x-hub-signature-256": f"sha256={hmac_hex('chat-secret', body)}"}  # fmt: skip
    return httpx.post(f"{ingest.http}/v1/leads/chat", content=body, headers=headers)


def post_raw_mime(ingest: Ingest) -> httpx.Response:
    """Signed as a form is: with a Mailgun key set, an unsigned raw MIME post is refused."""
    body = fixture("thunderbird_multipart.eml")
    t = int(time.time())
    signature = f"t={t},v1={hmac_hex('mime-secret', f'{t}.'.encode() + body)}"
    return httpx.post(
        f"{ingest.http}/v1/leads/email",
        content=body,
        headers={"content-type": "message/rfc822", "x-leadrouter-signature": signature},
    )


def post_mailgun(ingest: Ingest) -> httpx.Response:
    """The fixture post, re-signed for now: Mailgun signs timestamp + token."""
    body = fixture("mailgun_inbound_parse.multipart")
    t, token = str(int(time.time())), "c2f3a1e0b9d84e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e"
    body = body.replace(b"1795424400", t.encode()).replace(
        b"0" * 64, hmac_hex("mailgun-key", (t + token).encode()).encode()
    )
    content_type = f"multipart/form-data; boundary={MAILGUN_BOUNDARY}"
    return httpx.post(
        f"{ingest.http}/v1/leads/email", content=body, headers={"content-type": content_type}
    )


def test_every_http_channel_lands_on_leads_inbound_once(
    ingest: Ingest, kafka: KafkaSettings
) -> None:
    answers = {
        "form": post_form(ingest),
        "chat": post_chat(ingest),
        "mime": post_raw_mime(ingest),
        "mailgun": post_mailgun(ingest),
    }
    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(answers, 202)
    twilio = post_twilio(ingest)
    assert twilio.status_code == 200
    assert "<Response></Response>" in twilio.text

    written = read_inbound(kafka, expected=5)
    by_channel = {w.lead.channel: w for w in written}
    assert len(written) == 5
    assert {answers[n].json()["lead_id"] for n in answers} <= {w.lead.lead_id for w in written}
    assert by_channel[Channel.SMS].key == b"+14155552671"
    assert by_channel[Channel.FORM].lead.first_name == "Zoë"
    assert by_channel[Channel.CHAT].key == b"priya.raman@northwind-logistics.co.uk"
    emails = {w.lead.source for w in written if w.lead.channel is Channel.EMAIL}
    assert emails == {"sales@example-saas.com", "leads@inbound.example-saas.com"}
    for w in written:
        assert w.key == w.lead.identity_key.encode()
        assert w.headers["ce_id"] == w.lead.lead_id.encode()
        assert w.headers["ce_specversion"] == b"1.0"


def test_twilio_signature_over_tampered_parameters_is_refused(ingest: Ingest) -> None:
    answer = post_twilio(ingest, tamper=True)
    assert answer.status_code == 401
    assert answer.json()["field"] == "X-Twilio-Signature"
    metrics = httpx.get(f"{ingest.metrics}/metrics", timeout=5).text
    refused = 'leadrouter_ingest_rejected_total{channel="sms",door="http",reason="bad_signature"}'
    assert f"{refused} 1.0" in metrics


def test_smtp_mail_to_an_accepted_domain_lands_on_leads_inbound(
    ingest: Ingest, kafka: KafkaSettings
) -> None:
    mail = EmailMessage()
    mail["From"] = "Grace Hopper <grace@navy-systems.example>"
    mail["To"] = "sales@leads.example.com"
    mail["Subject"] = "Pricing"
    mail["Message-ID"] = f"<smtp-{time.time_ns()}@navy-systems.example>"
    mail.set_content("We would like a quote.")
    with smtplib.SMTP("127.0.0.1", ingest.smtp_port, timeout=20) as smtp:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.send_message(mail, to_addrs=["someone@elsewhere.example"])
        refused = smtp.send_message(mail, to_addrs=["sales@leads.example.com"])
    assert refused == {}
    message_id = mail["Message-ID"]
    written = read_inbound(kafka, 1, lambda w: w.lead.source_message_id == message_id)
    assert len(written) == 1
    assert written[0].lead.source == "sales@leads.example.com"
    assert written[0].key == b"grace@navy-systems.example"


def test_raw_topics_reach_inbound_and_bad_payloads_are_dead_lettered_whole(
    ingest: Ingest, kafka: KafkaSettings
) -> None:
    producer = Producer(kafka.producer())
    bad = b"this is not a lead \xff"
    chat = fixture("chat_started.json").replace(b"conv_01JD4W7K2Q8N6V3M9X5B1C0ZTY", b"conv-raw")
    producer.produce(kafka.topic(raw_topic("chat")), key=b"conv-raw", value=chat)
    producer.produce(kafka.topic(raw_topic("form")), key=b"sub-bad", value=bad)
    assert producer.flush(10) == 0
    raw_leads = read_inbound(kafka, 1, lambda w: w.lead.source_message_id == "conv-raw")
    assert len(raw_leads) == 1
    letters = read_topic(kafka, "leads.dead-letter", expected=1)
    assert len(letters) == 1
    letter = AvroCodec(DeadLetter).decode(letters[0].value or b"")
    assert letter.original_value == bad
    assert letter.original_key == b"sub-bad"
    assert letter.reason == "malformed"
    assert letter.original_topic == kafka.topic(raw_topic("form"))
