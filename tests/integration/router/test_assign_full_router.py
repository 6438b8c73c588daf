"""The whole router process (`--stage all`): leads in on leads.inbound, decisions out.

Triage and assign run fused on one loop; every lead comes out as exactly one assignment, the
owner table gets its facts, and one /metrics endpoint shows both stages.
"""

from __future__ import annotations

import socket
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer

from services.leads.events import Lead, Outcome
from services.leads.topics import Topic
from services.router.config_source import publish_config
from services.router.owner_facts import owner_fact_serde
from services.streaming.codec import AvroCodec
from services.streaming.settings import KafkaSettings
from services.streaming.state import read_to_end
from tests.integration.router.router_io import read_decisions
from tests.integration.router.router_process import RouterProcess
from tests.integration.router.scenario import document, make_lead

pytestmark = pytest.mark.integration

LEADS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def router(topics: KafkaSettings, tmp_path: Path) -> Iterator[RouterProcess]:
    process = RouterProcess(topics, tmp_path, stage="all", metrics_port=free_port())
    try:
        yield process
    finally:
        process.kill()


def send_leads(settings: KafkaSettings, leads: list[Lead]) -> None:
    codec = AvroCodec(Lead)
    producer = Producer(settings.producer())
    for lead in leads:
        topic = settings.topic(Topic.INBOUND)
        producer.produce(topic, key=lead.identity_key, value=codec.encode(lead))
    assert producer.flush(30) == 0


def scrape(port: int, deadline_s: float = 20.0) -> str:
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
                return str(reply.read().decode())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_leads_in_come_out_as_one_assignment_each_with_owner_facts_and_metrics(
    topics: KafkaSettings, router: RouterProcess
) -> None:
    publish_config(topics, document(1), published_by="test", now_ms=1)
    leads = [make_lead(i).model_copy(update={"identity_key": f"person-{i}"}) for i in range(LEADS)]
    router.start()
    send_leads(topics, leads)
    decisions = read_decisions(topics, wanted=LEADS, deadline_s=60)
    assert router.metrics_port is not None
    metrics = scrape(router.metrics_port)
    router.stop()

    assert Counter(d.lead_id for d in decisions) == Counter(lead.lead_id for lead in leads)
    assert {d.outcome for d in decisions} <= {Outcome.ASSIGNED, Outcome.UNASSIGNED}
    assert all(d.trace.rule_id is None and d.pool_id in {"emea", "unassigned"} for d in decisions)

    facts: dict[str, str] = {}

    def apply(_partition: int, key: bytes | None, value: bytes | None) -> None:
        assert key is not None and value is not None
        facts[key.decode()] = owner_fact_serde().decode(value).rep_id

    read_to_end(topics, topics.topic(Topic.OWNERS), [0, 1, 2, 3], apply)
    assigned = [d for d in decisions if d.outcome is Outcome.ASSIGNED and d.lead is not None]
    assert assigned
    for decision in assigned:
        assert decision.lead is not None
        assert facts[f"person:{decision.lead.identity_key}"] == decision.rep_id

    app = topics.topic("leadrouter-router")
    inbound, requests = topics.topic(Topic.INBOUND), topics.topic(Topic.ROUTING_REQUESTS)
    for series in (
        "leadrouter_triage_leads_total",
        "leadrouter_assignments_total",
        "leadrouter_decision_seconds_count",
        # both stages on one loop: one app, its records counted per input topic
        f'leadrouter_records_processed_total{{app="{app}",topic="{inbound}"',
        f'leadrouter_records_processed_total{{app="{app}",topic="{requests}"',
    ):
        assert series in metrics, series
