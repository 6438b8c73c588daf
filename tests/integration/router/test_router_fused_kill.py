"""The router with both stages fused on one loop (the default `--stage all`), SIGKILLed three
times while leads stream into leads.inbound: triage's request, assign's assignment, both
stores' writes and both inputs' offsets share each transaction, so after every kill each lead
still has exactly one routing request and exactly one decision.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from confluent_kafka import Producer

from services.leads.events import Lead, Outcome, RoutingRequest
from services.leads.topics import Topic
from services.router.config_source import publish_config
from services.streaming.codec import AvroCodec
from services.streaming.settings import KafkaSettings
from services.streaming.state import read_to_end
from tests.integration.router.router_io import read_decisions, wait_for_output
from tests.integration.router.router_process import RouterProcess
from tests.integration.router.scenario import document, make_lead

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LEADS = 3_000
FEED_SECONDS = 8.0


def stream_leads(settings: KafkaSettings, leads: list[Lead]) -> threading.Thread:
    def run() -> None:
        codec, producer = AvroCodec(Lead), Producer(settings.producer())
        pause = FEED_SECONDS / (len(leads) / 100)
        for start in range(0, len(leads), 100):
            for lead in leads[start : start + 100]:
                producer.produce(
                    settings.topic(Topic.INBOUND), key=lead.identity_key, value=codec.encode(lead)
                )
            producer.poll(0)
            time.sleep(pause)
        assert producer.flush(30) == 0

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def routing_requests(settings: KafkaSettings) -> list[RoutingRequest]:
    codec, seen = AvroCodec(RoutingRequest), []
    read_to_end(
        settings,
        settings.topic(Topic.ROUTING_REQUESTS),
        [0, 1, 2, 3],
        lambda _p, _k, v: seen.append(codec.decode(v or b"")),
    )
    return seen


def test_sigkill_of_the_fused_router_loses_and_doubles_no_lead(
    topics: KafkaSettings, fused_router: RouterProcess
) -> None:
    router = fused_router
    publish_config(topics, document(1), published_by="test", now_ms=1)
    leads = [make_lead(i).model_copy(update={"identity_key": f"person-{i}"}) for i in range(LEADS)]
    router.start()
    feeder = stream_leads(topics, leads)
    seen = 0
    for _ in range(3):
        seen = wait_for_output(topics, above=seen + 200, timeout_s=60)
        router.kill()
        router.start()  # the same slot fences the dead one's transaction at once
    feeder.join(60)
    decisions = read_decisions(topics, wanted=LEADS, deadline_s=120)
    router.stop()

    wanted = Counter(lead.lead_id for lead in leads)
    assert Counter(d.lead_id for d in decisions) == wanted, router.logs()
    assert {d.outcome for d in decisions} <= {Outcome.ASSIGNED, Outcome.UNASSIGNED}
    assert Counter(r.lead_id for r in routing_requests(topics)) == wanted
    assert router.starts == 4
