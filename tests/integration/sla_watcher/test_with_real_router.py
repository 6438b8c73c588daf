"""The watcher and the real router/assign together: a silent owner loses the lead to a rep the
router has not tried, twice, and then the manager hears of it; a lead touched in time keeps its
first owner. Only the leads' first assign requests and the touches are written by the test."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer

from services.leads.events import (
    ActivityType,
    Assignment,
    Escalation,
    EscalationStep,
    Outcome,
    RequestKind,
    RoutingRequest,
)
from services.leads.topics import Topic
from services.streaming.codec import AvroCodec
from services.streaming.settings import KafkaSettings
from tests.integration.router.router_process import RouterProcess
from tests.integration.sla_watcher.harness import (
    Feed,
    TopicReader,
    Watcher,
    decode_all,
    publish,
    sla_config_text,
    wait_for,
)
from tests.unit.sla_watcher.builders import make_activity, make_lead

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def services(topics: KafkaSettings, tmp_path: Path) -> Iterator[tuple[Watcher, RouterProcess]]:
    publish(topics, sla_config_text("3s", notify_at=[0.5], after_reassignments=2))
    watcher, router = Watcher(topics, tmp_path), RouterProcess(topics, tmp_path, stage="assign")
    try:
        router.start()
        watcher.start()
        yield watcher, router
    finally:
        watcher.kill()
        router.kill()


def assign_request(lead_id: str) -> RoutingRequest:
    lead = make_lead(lead_id, received_at_ms=time.time_ns() // 1_000_000)
    return RoutingRequest(
        request_id=f"req-{lead_id}", kind=RequestKind.ASSIGN, lead_id=lead_id, pool_id="inside",
        lead=lead, reason="test", received_at_ms=lead.received_at_ms,
        requested_at_ms=lead.received_at_ms,
    )  # fmt: skip


def test_real_router_reassigns_to_untried_reps_until_the_manager_is_told(
    topics: KafkaSettings, services: tuple[Watcher, RouterProcess]
) -> None:
    watcher, router = services

    def both_ready() -> bool:
        time.sleep(0.2)  # a deadline counts from the request's own time: start them first
        return all("assigned partitions" in text for text in (router.logs(), watcher.log_text()))

    wait_for(both_ready, 60, "router and watcher to own their partitions")
    silent, answered = ["silent-a", "silent-b"], ["answered-a", "answered-b"]
    producer = Producer(topics.producer())
    codec = AvroCodec(RoutingRequest)
    for lead_id in silent + answered:
        request = assign_request(lead_id)
        producer.produce(topics.topic(Topic.ROUTING_REQUESTS), key=request.pool_id,
                         value=codec.encode(request))  # fmt: skip
    assert producer.flush(30) == 0

    feed = Feed(topics)
    assignments_in = TopicReader(topics, Topic.ASSIGNMENTS, "assignments")
    escalations_in = TopicReader(topics, Topic.ESCALATIONS, "escalations")
    assignments: list[Assignment] = []
    escalations: list[Escalation] = []

    def follow() -> bool:
        """Play the CRM: the owner of an `answered-*` lead touches it as soon as it is theirs."""
        for assignment in decode_all(assignments_in.poll(), Assignment):
            assignments.append(assignment)
            if assignment.lead_id in answered and assignment.outcome is Outcome.ASSIGNED:
                feed.act(make_activity(ActivityType.FIRST_TOUCH, assignment.rep_id,
                                       lead_id=assignment.lead_id,
                                       occurred_at_ms=time.time_ns() // 1_000_000))  # fmt: skip
        feed.flush()
        escalations.extend(decode_all(escalations_in.poll(0), Escalation))
        finals = {e.lead_id for e in escalations if e.step is EscalationStep.ESCALATE}
        return finals >= set(silent)

    try:
        wait_for(follow, 90, "manager escalations for the silent leads")
        settle = time.monotonic() + 2
        while time.monotonic() < settle:
            follow()
    except AssertionError:
        raise AssertionError(f"{router.logs()}\n{watcher.log_text()[-3000:]}") from None
    finally:
        assignments_in.close()
        escalations_in.close()

    owners: dict[str, list[str]] = defaultdict(list)
    for assignment in assignments:
        if assignment.outcome is Outcome.ASSIGNED and assignment.rep_id:
            owners[assignment.lead_id].append(assignment.rep_id)
    for lead_id in silent:
        assert len(owners[lead_id]) == 3 and len(set(owners[lead_id])) == 3, owners[lead_id]
        steps = [e.step for e in escalations if e.lead_id == lead_id and e.step.value != "notify"]
        assert steps == [EscalationStep.REASSIGN, EscalationStep.REASSIGN, EscalationStep.ESCALATE]
        final = [e for e in escalations if e.lead_id == lead_id][-1]
        assert (final.target, final.rep_id) == ("maria", owners[lead_id][-1])
    for lead_id in answered:
        assert len(owners[lead_id]) == 1
        late = [e for e in escalations if e.lead_id == lead_id and e.step.value != "notify"]
        assert late == [], "a lead touched in time was reassigned"
