"""On the real broker: the notifier reads `admin.audit` beside the assignments, and tells a
pool's contacts when the pool is paused and resumed, once each; a presence change on the same
partition, read before them, tells nobody."""

from __future__ import annotations

from pathlib import Path

import pytest
from confluent_kafka import Producer

from services.leads.events import AdminAction, AdminAudit
from services.leads.topics import Topic
from services.streaming.codec import AvroCodec
from services.streaming.settings import KafkaSettings
from tests.integration.notifier.harness import NotifierProcess, config_text, wait_until
from tests.integration.notifier.providers import provider, text
from tests.integration.sla_watcher.harness import publish

pytestmark = [pytest.mark.integration]

T0 = 1_763_978_400_000


def audit(action: AdminAction, target: str, n: int) -> AdminAudit:
    return AdminAudit(
        audit_id=f"audit-{n}", actor="olga", role="operator", action=action, target=target,
        reason="team offsite", at_ms=T0 + n,
    )  # fmt: skip


def test_pausing_and_resuming_a_pool_is_told_to_the_pool_once_each(
    topics: KafkaSettings, tmp_path: Path
) -> None:
    with provider(lambda seen: text(200, "ok")) as hook:
        points = {"points": [{"channel": "webhook", "url": f"{hook.url}/pool"}]}
        publish(topics, config_text({"contacts": {"inside": points}}))
        producer, codec = Producer(topics.producer()), AvroCodec(AdminAudit)
        actions = [
            audit(AdminAction.SET_PRESENCE, "ann", 0),
            audit(AdminAction.PAUSE_POOL, "inside", 1),
            audit(AdminAction.RESUME_POOL, "inside", 2),
        ]
        for entry in actions:  # one key: one partition, read in this order
            producer.produce(
                topics.topic(Topic.ADMIN_AUDIT), key=b"inside", value=codec.encode(entry)
            )
        assert producer.flush(30) == 0
        notifier = NotifierProcess(topics, tmp_path)
        notifier.start()
        try:
            wait_until(lambda: len(hook.seen) >= 2, 60, "both pool notifications", notifier)
        finally:
            notifier.stop()
    bodies = [seen.json() for seen in hook.seen]
    # deliveries go out in parallel: their order is not the actions' (each body has its time)
    assert sorted(b["type"] for b in bodies) == ["admin.pause_pool", "admin.resume_pool"]
    assert {b["data"]["actor"] for b in bodies} == {"olga"}
    assert len(hook.seen) == len({seen.headers["webhook-id"] for seen in hook.seen}) == 2
