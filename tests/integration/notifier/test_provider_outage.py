"""On the real broker: the CRM's webhook answers 503 until the test has seen every email go
out; nothing is lost, the retries show in the metrics, and email never waits for the webhook.
A second endpoint that answers 410 has each of its notifications dead-lettered with that answer.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller

from services.leads.events import DeadLetter
from services.leads.topics import Topic
from services.streaming.settings import KafkaSettings
from tests.integration.notifier.harness import NotifierProcess, Receiver, config_text, wait_until
from tests.integration.notifier.providers import provider, text
from tests.integration.notifier.test_sms_and_email import Mailbox
from tests.integration.sla_watcher.harness import Feed, TopicReader, decode_all, publish
from tests.unit.sla_watcher.builders import make_assignment

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LEADS = 40


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield box, controller.port
    finally:
        controller.stop()


def metric(port: int, name: str, **labels: str) -> float:
    """The sum of `name` over the series carrying `labels`, scraped from the notifier."""
    body = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    total = 0.0
    for line in body.splitlines():
        match = re.match(rf"{name}\{{(.*)\}} (\S+)$", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            total += float(match.group(2))
    return total


def test_a_provider_down_delays_only_its_own_channel_and_loses_nothing(
    topics: KafkaSettings, mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    box, smtp_port = mailbox
    crm = Receiver()
    crm.status = 503
    metrics_port = free_port()
    with crm.server.running(), provider(lambda seen: text(410, "gone")) as gone:
        points = {"points": [{"channel": "email", "to": "ann@example.com"}]}
        publish(
            topics,
            config_text(
                {
                    "contacts": {
                        "ann": points,
                        "bob": {"points": [{"channel": "email", "to": "bob@example.com"}]},
                    },
                    "subscribers": [
                        {"channel": "webhook", "url": f"{crm.server.url}/crm"},
                        {"channel": "webhook", "url": f"{gone.url}/old"},
                    ],
                }
            ),
        )
        feed = Feed(topics)
        for n in range(LEADS):
            feed.assign(make_assignment(f"lead-{n}", "ann" if n % 2 else "bob"))
        feed.flush()
        notifier = NotifierProcess(
            topics,
            tmp_path,
            NOTIFIER_SMTP_PORT=str(smtp_port),
            NOTIFIER_METRICS_PORT=str(metrics_port),
            NOTIFIER_BACKOFF_BASE_MS="100",
            NOTIFIER_BACKOFF_CAP_MS="400",
            NOTIFIER_MAX_ATTEMPTS="1000",
            METRICS_HOST="127.0.0.1",
        )
        notifier.start()
        try:
            wait_until(lambda: len(box.messages) == LEADS, 60, "every email", notifier)
            assert crm.unique == 0  # still down: email did not wait for it
            wait_until(
                lambda: (
                    metric(
                        metrics_port, "leadrouter_notifications_retried_total", channel="webhook"
                    )
                    >= 2 * LEADS
                ),
                60,
                "each webhook retried twice",
                notifier,
            )
            crm.status = 200
            wait_until(lambda: crm.unique == LEADS, 60, "every webhook after recovery", notifier)
            sent_email = metric(
                metrics_port, "leadrouter_notifications_sent_total", channel="email"
            )
            letters = dead_letters(topics)
        finally:
            notifier.stop()
    assert sent_email == LEADS
    assert crm.duplicates == 0
    assert len(letters) == LEADS
    assert {(d.reason, d.detail) for d in letters} == {
        ("notification_rejected", "after 1 attempt(s): 410 gone")
    }


def dead_letters(settings: KafkaSettings) -> list[DeadLetter]:
    reader = TopicReader(settings, Topic.NOTIFIER_DEAD_LETTER, "outage-test-reader")
    values: list[bytes] = []
    try:
        wait_until(
            lambda: bool(values.extend(reader.poll(0.2))) or len(values) >= LEADS,
            30,
            "the dead letters",
        )
    finally:
        reader.close()
    return decode_all(values, DeadLetter)
