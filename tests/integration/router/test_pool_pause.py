"""Pausing a pool on the real broker: a pool's presence on `reps.presence` steers the router.

apac (fallback: overflow) and emea (no fallback) are paused from minute 10 to minute 20 of
event time: their leads in that window go to overflow and to the fallback queue, the leads
after it are decided in their own pools again, an operator's override goes through the pause,
and `leadrouter replay` reproduces every decision: the pause is read at the presence position
each decision records, and the override from the request's header.
"""

from __future__ import annotations

import pytest
from confluent_kafka import Producer

from services.leads.events import (
    OPERATOR_HEADER,
    Assignment,
    Outcome,
    PresenceStatus,
    RepPresence,
    RequestKind,
    RoutingRequest,
)
from services.leads.topics import Topic
from services.router.config_source import publish_config
from services.router.presence import pool_key
from services.streaming.codec import AvroCodec
from services.streaming.settings import KafkaSettings
from tests.integration.router.router_io import feed, publish_presence, read_decisions
from tests.integration.router.router_process import RouterProcess, cli
from tests.integration.router.scenario import STEP_MS, T0, document, make_lead

pytestmark = pytest.mark.integration

PAUSED_FROM, RESUMED_AT = T0 + 10 * STEP_MS, T0 + 20 * STEP_MS


def request(i: int, pool_id: str) -> RoutingRequest:
    lead = make_lead(i)
    return RoutingRequest(
        request_id=f"req-{lead.lead_id}", kind=RequestKind.ASSIGN, lead_id=lead.lead_id,
        pool_id=pool_id, lead=lead, reason="pause test", received_at_ms=lead.received_at_ms,
        requested_at_ms=lead.received_at_ms,
    )  # fmt: skip


def pool_state(pool_id: str, status: PresenceStatus, at_ms: int) -> RepPresence:
    return RepPresence(rep_id=pool_key(pool_id), status=status, changed_at_ms=at_ms)


def test_a_paused_pool_falls_back_until_resumed_and_replay_agrees(
    topics: KafkaSettings, router: RouterProcess
) -> None:
    publish_config(topics, document(1), published_by="test", now_ms=1)
    away, available = PresenceStatus.AWAY, PresenceStatus.AVAILABLE
    publish_presence(topics, [
        pool_state("apac", away, PAUSED_FROM), pool_state("emea", away, PAUSED_FROM),
        pool_state("apac", available, RESUMED_AT), pool_state("emea", available, RESUMED_AT),
    ])  # fmt: skip
    stream = [request(i, ("apac", "emea")[i % 2]) for i in range(5, 25)]
    overridden = request(15, "emea").model_copy(
        update={"request_id": "req-override", "lead_id": "lead-override", "preferred_owner": "ann"}
    )
    send_overridden(topics, overridden)
    router.start()
    feed(topics, stream, seconds=0).join(30)
    decisions = read_decisions(topics, wanted=len(stream) + 1, deadline_s=60)
    router.stop()
    assert router.process is not None and router.process.returncode == 0, router.logs()
    assert len(decisions) == len(stream) + 1
    [forced] = [d for d in decisions if d.lead_id == "lead-override"]
    assert (forced.pool_id, forced.rep_id) == ("emea", "ann")  # an override goes through a pause
    decisions.remove(forced)

    def where(d: Assignment) -> tuple[str, str, Outcome]:
        return d.requested_pool_id, d.pool_id, d.outcome

    def in_pause(d: Assignment) -> bool:
        return PAUSED_FROM <= (d.lead.received_at_ms if d.lead else 0) < RESUMED_AT

    paused = {d.lead_id: where(d) for d in decisions if in_pause(d)}
    running = {d.lead_id: where(d) for d in decisions if not in_pause(d)}
    assert set(paused.values()) == {
        ("apac", "overflow", Outcome.ASSIGNED),
        ("emea", "unassigned", Outcome.UNASSIGNED),
    }
    assert {(asked, pool) for asked, pool, _ in running.values()} == {
        ("apac", "apac"),
        ("emea", "emea"),
    }
    reasons = {c.skip_reason for d in decisions if d.lead_id in paused for c in d.trace.candidates}
    assert {"pool_paused: pool apac is paused", "pool_paused: pool emea is paused"} <= reasons

    replayed = cli(topics, "replay", "--from-beginning", "--into", topics.topic("replayed"))
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "different:                      0" in replayed.stdout  # the override header too


def send_overridden(settings: KafkaSettings, overridden: RoutingRequest) -> None:
    producer = Producer(settings.producer())
    producer.produce(
        settings.topic(Topic.ROUTING_REQUESTS), key=overridden.pool_id,
        value=AvroCodec(RoutingRequest).encode(overridden),
        headers=[(OPERATOR_HEADER, b"override")],
    )  # fmt: skip
    assert producer.flush(30) == 0
