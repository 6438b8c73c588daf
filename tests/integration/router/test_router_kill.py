"""The router on a real broker, SIGKILLed three times mid-stream, against the pure strategy.

10,000 leads over three pools (mixed weights and strategies, a fallback pool), presence changes,
daily and open-lead caps, releases, and a config publish halfway. Afterwards: every lead has
exactly one decision and every release one; per-rep counts and each pool's final rotation state
equal what the pure decision code computes from the same requests (so each restart continued
the rotation where the committed state left it); config versions only move forward.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from services.leads.events import Assignment, RepPresence, RequestKind, RoutingRequest
from services.leads.topics import Topic
from services.router.assign import rotation_serde
from services.router.config_source import publish_config
from services.router.rotation import RotationState
from services.streaming.codec import AvroCodec
from services.streaming.settings import KafkaSettings
from services.streaming.state import read_to_end
from tests.integration.router.router_process import RouterProcess
from tests.integration.router.scenario import (
    document,
    expected,
    presence_changes,
    requests,
    tally,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LEADS = 10_000
FEED_SECONDS = 14.0


@pytest.fixture
def router(topics: KafkaSettings, tmp_path: Path) -> Iterator[RouterProcess]:
    process = RouterProcess(topics, tmp_path)
    try:
        yield process
    finally:
        process.kill()


def publish_presence(settings: KafkaSettings, changes: list[RepPresence]) -> None:
    codec = AvroCodec(RepPresence)
    producer = Producer(settings.producer())
    for change in changes:
        producer.produce(
            settings.topic(Topic.REPS_PRESENCE), key=change.rep_id, value=codec.encode(change)
        )
    assert producer.flush(30) == 0


def feed(settings: KafkaSettings, stream: list[RoutingRequest]) -> threading.Thread:
    """Produce the requests over FEED_SECONDS; publish config version 2 halfway through."""

    def run() -> None:
        codec = AvroCodec(RoutingRequest)
        producer = Producer(settings.producer())
        chunk = 250
        pause = FEED_SECONDS / (len(stream) / chunk)
        for start in range(0, len(stream), chunk):
            if start <= len(stream) // 2 < start + chunk:
                publish_config(settings, document(2), published_by="test", now_ms=2)
            for request in stream[start : start + chunk]:
                producer.produce(
                    settings.topic(Topic.ROUTING_REQUESTS),
                    key=request.pool_id,
                    value=codec.encode(request),
                )
            producer.poll(0)
            time.sleep(pause)
        assert producer.flush(30) == 0

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def wait_for_output(settings: KafkaSettings, above: int, timeout_s: float) -> int:
    """Block until leads.assignments holds more than `above` records (committed or in flight)."""
    consumer = Consumer(settings.reader())
    topic = settings.topic(Topic.ASSIGNMENTS)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            total = sum(
                consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=5)[1]
                for p in range(4)
            )
            if total > above:
                return total
            time.sleep(0.1)
    finally:
        consumer.close()
    raise AssertionError(f"the router wrote nothing past {above} records in {timeout_s:.0f} s")


def read_decisions(settings: KafkaSettings, wanted: int, deadline_s: float) -> list[Assignment]:
    """Committed decisions until `wanted` are in, then 3 s more to catch any extra."""
    codec = AvroCodec(Assignment)
    consumer = Consumer(settings.consumer(settings.topic("verify")))
    consumer.subscribe([settings.topic(Topic.ASSIGNMENTS)])
    seen: list[Assignment] = []
    deadline, settle_until = time.monotonic() + deadline_s, None
    try:
        while time.monotonic() < (settle_until or deadline):
            for message in consumer.consume(1000, timeout=0.5):
                assert message.error() is None, message.error()
                seen.append(codec.decode(message.value()))
            if settle_until is None and len(seen) >= wanted:
                settle_until = time.monotonic() + 3
    finally:
        consumer.close()
    return seen


def final_states(settings: KafkaSettings) -> dict[str, RotationState]:
    serde = rotation_serde()
    states: dict[str, RotationState] = {}

    def apply(_partition: int, key: bytes | None, value: bytes | None) -> None:
        assert key is not None and value is not None
        states[key.decode()] = serde.decode(value)

    read_to_end(settings, settings.topic(Topic.ROTATION_STATE), [0, 1, 2, 3], apply)
    return states


def test_router_killed_three_times_decides_every_request_once_as_the_pure_strategy_does(
    topics: KafkaSettings, router: RouterProcess
) -> None:
    stream = requests(LEADS)
    presence = presence_changes(LEADS)
    publish_config(topics, document(1), published_by="test", now_ms=1)
    publish_presence(topics, presence)
    router.start()
    feeder = feed(topics, stream)
    rng = random.Random(20261123)
    written = 0
    for _ in range(3):
        written = wait_for_output(topics, above=written, timeout_s=30)  # it is deciding now
        time.sleep(rng.uniform(0.2, 1.5))
        router.kill()
        router.start()
    feeder.join(60)
    decisions = read_decisions(topics, wanted=len(stream), deadline_s=90)
    router.stop()

    by_request = Counter(d.assignment_id for d in decisions)
    doubled = {k: n for k, n in by_request.items() if n > 1}
    assert not doubled, f"{len(doubled)} requests decided twice, e.g. {list(doubled)[:3]}"
    missing = {f"asg:{r.request_id}" for r in stream} - set(by_request)
    assert not missing, f"{len(missing)} requests never decided, e.g. {sorted(missing)[:3]}\n" + (
        router.logs()
    )
    first = [d for d in decisions if d.kind is RequestKind.ASSIGN]
    assert len({d.lead_id for d in first}) == LEADS == len(first)

    by_partition: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for d in decisions:
        by_partition[d.trace.input_partition].append((d.trace.input_offset, d.trace.config_version))
    for partition, seen in by_partition.items():
        versions = [v for _, v in sorted(seen)]
        assert versions == sorted(versions), f"partition {partition} went back to an old version"
    assert {d.trace.config_version for d in decisions} == {1, 2}

    version_of = {d.assignment_id.removeprefix("asg:"): d.trace.config_version for d in decisions}
    want = expected(stream, presence, version_of)
    per_rep, unassigned, released = tally(decisions)
    assert per_rep == want.assigned_per_rep
    assert (unassigned, released) == (want.unassigned, want.released)
    assert unassigned > 0 and per_rep["hal"] > 0  # the scenario did reach fallback and beyond
    assert final_states(topics) == want.states
