"""With the broker stopped, ingest never answers success; once it is back, retries land and
leads.inbound holds each lead exactly once, whole. Runs its own broker, since it stops it."""

from __future__ import annotations

import smtplib
from collections import Counter
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from services.ingest.identity import lead_id
from services.leads.events import Channel
from services.streaming.admin import create_topics
from services.streaming.local_broker import LocalBroker, free_port_pair
from services.streaming.settings import KafkaSettings
from tests.integration.ingest.running import (
    Ingest,
    read_inbound,
    running_ingest,
    wait_until_ready,
)
from tests.unit.ingest.payloads import make_chat, urlencoded

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FORM = {"content-type": "application/x-www-form-urlencoded"}


def post_form(ingest: Ingest, key: str) -> httpx.Response:
    headers = {**FORM, "idempotency-key": key}
    body = urlencoded(email=f"{key}@acme.example", message="call me")
    return httpx.post(f"{ingest.http}/v1/leads/forms/contact", content=body, headers=headers,
                      timeout=30)  # fmt: skip


def post_chat(ingest: Ingest, conversation: str) -> httpx.Response:
    return httpx.post(
        f"{ingest.http}/v1/leads/chat",
        content=make_chat(conversation_id=conversation),
        headers={"content-type": "application/json"},
        timeout=30,
    )


def send_mail(ingest: Ingest, message_id: str) -> None:
    mail = EmailMessage()
    mail["From"] = "ops@acme.example"
    mail["To"] = "sales@leads.example.com"
    mail["Subject"] = "Quote"
    mail["Message-ID"] = message_id
    mail.set_content("Please call.")
    with smtplib.SMTP("127.0.0.1", ingest.smtp_port, timeout=30) as smtp:
        smtp.send_message(mail)


def test_broker_down_means_503_and_451_and_retries_land_exactly_once(tmp_path: Path) -> None:
    """Every lead is decoded whole from leads.inbound, and each lead id appears once."""
    broker = LocalBroker(port=free_port_pair(), run_dir=tmp_path)
    kafka = KafkaSettings(bootstrap_servers=broker.start(), topic_prefix="down.")
    try:
        create_topics(kafka, partitions=1)
        with running_ingest(
            kafka, "--no-raw", publish_timeout_ms="1500", retry_after_s="3",
            smtp_domains="leads.example.com",
        ) as ingest:  # fmt: skip
            wait_until_ready(ingest, 30)
            assert post_form(ingest, "before").status_code == 202

            broker.stop()
            form, chat = post_form(ingest, "during"), post_chat(ingest, "conv-during")
            assert (form.status_code, chat.status_code) == (503, 503)
            assert form.headers["retry-after"] == "3"
            assert form.headers["content-type"] == "application/problem+json"
            with pytest.raises(smtplib.SMTPDataError) as deferred:
                send_mail(ingest, "<during@acme.example>")
            assert deferred.value.smtp_code == 451
            assert httpx.get(f"{ingest.http}/readyz", timeout=10).status_code == 503

            broker.start()
            wait_until_ready(ingest, 60)
            retried_form, retried_chat = (
                post_form(ingest, "during"),
                post_chat(ingest, "conv-during"),
            )
            assert (retried_form.status_code, retried_chat.status_code) == (202, 202)
            send_mail(ingest, "<during@acme.example>")

            expected_ids = {
                lead_id(Channel.FORM, "contact/before"),
                lead_id(Channel.FORM, "contact/during"),
                lead_id(Channel.CHAT, "conv-during"),
                lead_id(Channel.EMAIL, "<during@acme.example>"),
            }
            assert retried_form.json()["lead_id"] == lead_id(Channel.FORM, "contact/during")
            written = read_inbound(kafka, expected=4, timeout_s=30)
            counts = Counter(w.lead.lead_id for w in written)
            assert counts == dict.fromkeys(expected_ids, 1)
            assert all(w.key == w.lead.identity_key.encode() for w in written)
            metrics = httpx.get(f"{ingest.metrics}/metrics", timeout=5).text
            assert 'leadrouter_ingest_unavailable_total{channel="form",door="http"} 1.0' in metrics
            assert 'leadrouter_ingest_unavailable_total{channel="email",door="smtp"} 1.0' in metrics
        assert ingest.process.returncode == 0  # SIGTERM stopped it cleanly
    finally:
        broker.stop()
