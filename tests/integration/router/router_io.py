"""Reading and writing the router's topics in the integration tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from confluent_kafka import Consumer, Producer, TopicPartition

from services.leads.events import Assignment, RepPresence, RoutingRequest
from services.leads.topics import Topic
from services.router.rotation import OpenLead, RotationState
from services.router.rotation_serde import rotation_serde
from services.streaming.codec import AvroCodec
from services.streaming.settings import KafkaSettings
from services.streaming.state import read_to_end


def publish_presence(settings: KafkaSettings, changes: list[RepPresence]) -> None:
    codec = AvroCodec(RepPresence)
    producer = Producer(settings.producer())
    for change in changes:
        topic = settings.topic(Topic.REPS_PRESENCE)
        producer.produce(topic, key=change.rep_id, value=codec.encode(change))
    assert producer.flush(30) == 0


def feed(
    settings: KafkaSettings,
    stream: list[RoutingRequest],
    seconds: float,
    halfway: Callable[[], object] = lambda: None,
) -> threading.Thread:
    """Produce `stream` to routing.requests over `seconds`, calling `halfway` in the middle."""

    def run() -> None:
        codec = AvroCodec(RoutingRequest)
        producer = Producer(settings.producer())
        chunk = 250
        pause = seconds / max(1, len(stream) / chunk)
        for start in range(0, len(stream), chunk):
            if start <= len(stream) // 2 < start + chunk:
                halfway()
            for request in stream[start : start + chunk]:
                topic = settings.topic(Topic.ROUTING_REQUESTS)
                producer.produce(topic, key=request.pool_id, value=codec.encode(request))
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


def final_states(
    settings: KafkaSettings,
) -> tuple[dict[str, RotationState], dict[tuple[str, str], str]]:
    """router.rotation as it ends: each pool's state, and (pool, lead) -> rep for open leads."""
    serde = rotation_serde()
    states: dict[str, RotationState] = {}
    open_leads: dict[tuple[str, str], str] = {}

    def apply(_partition: int, key: bytes | None, value: bytes | None) -> None:
        assert key is not None
        name = key.decode()
        if value is None:
            pool, _, lead = name.partition("/")
            open_leads.pop((pool, lead), None)
            return
        record = serde.decode(value)
        if isinstance(record, OpenLead):
            open_leads[(record.pool_id, record.lead_id)] = record.rep_id
        else:
            states[name] = record

    read_to_end(settings, settings.topic(Topic.ROTATION_STATE), [0, 1, 2, 3], apply)
    return states, open_leads
