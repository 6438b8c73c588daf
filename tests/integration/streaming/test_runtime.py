"""The loop's contract on the real broker: restores, dead letters, global tables."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import httpx
import pytest
from confluent_kafka import Consumer, Producer
from prometheus_client import CollectorRegistry

from services.leads.events import DeadLetter
from services.leads.topics import Topic, TopicSpec
from services.streaming.admin import create_topics
from services.streaming.codec import AvroCodec
from services.streaming.errors import InvalidRecord
from services.streaming.local_broker import free_port_pair
from services.streaming.loop import LoopSettings, Processor, TransactionalLoop
from services.streaming.metrics import serve_metrics
from services.streaming.records import InputRecord, OutputRecord, Serde
from services.streaming.settings import KafkaSettings
from services.streaming.state import StateStore
from services.streaming.tables import GlobalTable
from tests.integration.streaming.loop_runner import Running

pytestmark = pytest.mark.integration
TEXT = Serde[str](encode=str.encode, decode=bytes.decode)


def consume_all(settings: KafkaSettings, topic: str, expected: int, timeout_s: float = 30) -> list:
    consumer = Consumer(settings.consumer(f"read-{uuid.uuid4().hex}"))
    consumer.subscribe([topic])
    messages: list = []
    try:
        for _ in range(int(timeout_s / 0.5)):
            messages += [m for m in consumer.consume(500, timeout=0.5) if m.error() is None]
            if len(messages) >= expected:
                break
    finally:
        consumer.close()
    return messages


def test_restore_reads_past_transaction_markers_to_the_high_watermark(
    kafka_settings: KafkaSettings,
) -> None:
    topic = kafka_settings.topic("state")
    create_topics(kafka_settings, partitions=2, specs=[TopicSpec("state", True)])
    producer = Producer(kafka_settings.transactional_producer(f"w-{uuid.uuid4().hex}"))
    producer.init_transactions(30)
    for n in range(5):  # each commit leaves a marker that takes an offset
        producer.begin_transaction()
        producer.produce(topic, key=b"a", value=f"v{n}".encode(), partition=1)
        producer.produce(topic, key=f"k{n}".encode(), value=b"x", partition=1)
        producer.commit_transaction(30)
    producer.begin_transaction()
    producer.produce(topic, key=b"a", value=b"never", partition=1)
    producer.flush(10)
    producer.abort_transaction(30)
    producer.begin_transaction()
    producer.produce(topic, key=b"k0", value=None, partition=1)  # a tombstone
    producer.commit_transaction(30)

    store = StateStore(topic, TEXT)
    store.restore(kafka_settings, [0, 1])
    assert dict(store.items(1)) == {"a": "v4", "k1": "x", "k2": "x", "k3": "x", "k4": "x"}
    assert dict(store.items(0)) == {}


def run_in_thread(loop: TransactionalLoop) -> threading.Thread:
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    return thread


def test_bad_records_are_dead_lettered_with_their_bytes_and_the_rest_flow_on(
    topics: KafkaSettings,
) -> None:
    settings = topics
    create_topics(settings, partitions=2, specs=[TopicSpec("in", False), TopicSpec("out", False)])

    def handle(record: InputRecord) -> Iterator[OutputRecord]:
        if record.value and record.value.startswith(b"bad"):
            raise InvalidRecord("invalid_test", f"value {record.value!r} starts with bad")
        yield OutputRecord(settings.topic("out"), record.key, record.value)

    processor = Processor(
        app_id=settings.topic("dlq-app"),
        inputs=[settings.topic("in")],
        handle=handle,
        dead_letter_topic=settings.topic(Topic.DEAD_LETTER),
    )
    producer = Producer(settings.producer())
    for i in range(20):
        value = f"bad-{i}" if i % 5 == 0 else f"good-{i}"
        producer.produce(settings.topic("in"), key=f"k{i}", value=value)
    producer.flush(10)

    registry = CollectorRegistry()
    loop = TransactionalLoop(processor, settings, LoopSettings(), registry=registry)
    thread = run_in_thread(loop)
    try:
        good = consume_all(settings, settings.topic("out"), 16)
        letters = consume_all(settings, settings.topic(Topic.DEAD_LETTER), 4)
    finally:
        loop.stop()
        thread.join(30)
    assert sorted(m.value() for m in good) == sorted(
        f"good-{i}".encode() for i in range(20) if i % 5
    )
    decoded = [AvroCodec(DeadLetter).decode(m.value()) for m in letters]
    assert sorted(d.original_value or b"" for d in decoded) == [
        b"bad-0",
        b"bad-10",
        b"bad-15",
        b"bad-5",
    ]
    assert {d.reason for d in decoded} == {"invalid_test"}
    assert all(d.original_topic == settings.topic("in") for d in decoded)
    app = {"app": settings.topic("dlq-app")}
    assert (
        registry.get_sample_value("leadrouter_dead_letters_total", app | {"reason": "invalid_test"})
        == 4
    )
    assert (
        registry.get_sample_value(
            "leadrouter_records_processed_total", app | {"topic": settings.topic("in")}
        )
        == 20
    )
    headers = dict(letters[0].headers())
    assert headers["original_topic"] == settings.topic("in").encode()
    assert headers["error"] == b"invalid_test"


def test_global_table_loads_whole_then_follows_the_tail(topics: KafkaSettings) -> None:
    topic = topics.topic(Topic.REPS_PRESENCE)
    producer = Producer(topics.producer())
    producer.produce(topic, key=b"ann", value=b"away")
    producer.produce(topic, key=b"bob", value=b"available")
    producer.produce(topic, key=b"ann", value=b"available")
    producer.flush(10)
    table = GlobalTable(topics, topic, TEXT)
    table.load()
    assert table.values == {"ann": "available", "bob": "available"}
    producer.produce(topic, key=b"bob", value=None)
    producer.produce(topic, key=b"cy", value=b"offline")
    producer.flush(10)
    for _ in range(50):
        table.refresh()
        if "cy" in table.values:
            break
        threading.Event().wait(0.1)
    table.close()
    assert table.values == {"ann": "available", "cy": "offline"}


def test_health_endpoints_follow_the_loop(topics: KafkaSettings) -> None:
    create_topics(topics, partitions=2, specs=[TopicSpec("h.in", False)])
    processor = Processor(
        app_id=topics.topic("health-app"), inputs=[topics.topic("h.in")], handle=lambda r: []
    )
    registry = CollectorRegistry()
    loop = TransactionalLoop(processor, topics, LoopSettings(), registry=registry)
    port = free_port_pair()
    server = serve_metrics(registry, port, addr="127.0.0.1", health=loop.health)
    base = f"http://127.0.0.1:{port}"
    before = httpx.get(f"{base}/readyz", timeout=5)
    assert before.status_code == 503
    assert "starting" in before.json()["detail"]
    assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
    thread = run_in_thread(loop)
    try:
        for _ in range(100):
            if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                break
            threading.Event().wait(0.1)
        ready = httpx.get(f"{base}/readyz", timeout=5)
        metrics = httpx.get(f"{base}/metrics", timeout=5)
    finally:
        loop.stop()
        thread.join(30)
        server.shutdown()  # its thread holds loop.health, and so the loop's Kafka clients
        server.server_close()
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"ok": True, "detail": f"{topics.topic('health-app')}: 2 partitions"}
    assert "leadrouter_assigned_partitions" in metrics.text


def test_a_slow_handler_under_backlog_never_outlives_the_transaction_timeout(
    topics: KafkaSettings,
) -> None:
    """A whole consume() of backlog must not ride in one transaction: at 10 ms a record, 600
    records take 6 s, past a 3 s transaction timeout, and the broker would fence the loop."""
    create_topics(
        topics, partitions=1, specs=[TopicSpec("slow.in", False), TopicSpec("slow.out", False)]
    )
    producer = Producer(topics.producer())
    for i in range(600):
        producer.produce(topics.topic("slow.in"), key=b"k", value=str(i).encode())
    producer.flush(10)

    def handle(record: InputRecord) -> Iterator[OutputRecord]:
        threading.Event().wait(0.01)
        yield OutputRecord(topics.topic("slow.out"), record.key, record.value)

    processor = Processor(
        app_id=topics.topic("slow-app"), inputs=[topics.topic("slow.in")], handle=handle
    )
    loop = TransactionalLoop(processor, topics, LoopSettings(transaction_timeout_ms=3000))
    running = Running(loop)
    try:
        outputs = consume_all(topics, topics.topic("slow.out"), 600, timeout_s=60)
    finally:
        running.stop()
    assert not running.failures, running.failures
    assert sorted(int(m.value()) for m in outputs) == list(range(600))
