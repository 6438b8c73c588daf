"""On the real broker: assignments flow while the notifier is SIGKILLed three times; every
notification reaches the CRM's webhook, and none that was confirmed is sent again.

A notification in flight at a kill (sent, its confirmation not yet committed) is sent again
by the next process, with the same webhook-id: the receiver de-duplicates by it, and the test
prints how many such repeats it saw. That a confirmed one is never sent again shows in the
state topic: each notification has exactly one `sent` record, written by exactly one commit.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.leads.topics import Topic
from services.streaming.settings import KafkaSettings
from tests.integration.notifier.harness import NotifierProcess, Receiver, config_text, wait_until
from tests.integration.sla_watcher.harness import Feed, TopicReader, publish
from tests.unit.sla_watcher.builders import make_assignment

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ASSIGNMENTS = 2_000
KILLS = 3


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    crm = Receiver()
    with crm.server.running():
        yield crm


def test_sigkilled_notifier_delivers_everything_and_never_resends_a_confirmed_one(
    topics: KafkaSettings, receiver: Receiver, tmp_path: Path
) -> None:
    hook = {"channel": "webhook", "url": f"{receiver.server.url}/leadrouter"}
    publish(topics, config_text({"subscribers": [hook]}))
    feed = Feed(topics)
    for n in range(ASSIGNMENTS):
        feed.assign(make_assignment(f"lead-{n}", "ann" if n % 2 else "bob"))
    feed.flush()
    # 400 a second: the run spans several seconds, so each kill lands mid-stream.
    notifier = NotifierProcess(topics, tmp_path, NOTIFIER_RATE_LIMITS='{"webhook": 400}')
    started = time.monotonic()
    notifier.start()
    try:
        for kill in range(1, KILLS + 1):
            target = ASSIGNMENTS * kill // (KILLS + 1)
            wait_until(lambda t=target: receiver.unique >= t, 60, f"{target} deliveries", notifier)
            notifier.kill()
            notifier.start()
        wait_until(lambda: receiver.unique == ASSIGNMENTS, 60, "every delivery", notifier)
        sent = sent_records(topics)
    finally:
        notifier.stop()
    print(
        f"\n{ASSIGNMENTS} notifications, {KILLS} SIGKILLs, {time.monotonic() - started:.1f} s: "
        f"{receiver.unique} delivered, {receiver.duplicates} repeated in flight at a kill"
    )
    assert set(receiver.counts) == set(sent)
    assert set(Counter(sent.values()).keys()) == {1}, "a confirmed notification was sent again"
    assert notifier.starts == KILLS + 1


def sent_records(settings: KafkaSettings) -> dict[str, int]:
    """`sent` records per notification id in notifier.deliveries, until every id has one."""
    reader = TopicReader(settings, Topic.NOTIFIER_DELIVERIES, "kill-test-reader")
    counts: Counter[str] = Counter()
    try:
        deadline = time.monotonic() + 30
        while len(counts) < ASSIGNMENTS and time.monotonic() < deadline:
            for value in reader.poll(0.5):
                if value:
                    entry = json.loads(value)
                    if entry["status"] == "sent":
                        counts[entry["notification_id"]] += 1
        for value in reader.poll(1.0):  # anything written after the last id arrived
            entry = json.loads(value) if value else {}
            if entry.get("status") == "sent":
                counts[entry["notification_id"]] += 1
    finally:
        reader.close()
    return dict(counts)
