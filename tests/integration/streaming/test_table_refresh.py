"""A global table change reaches a loop that is working through a backlog, at the next
transaction boundary, not only once the backlog is drained."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, Producer

from services.leads.topics import TopicSpec
from services.streaming.admin import create_topics
from services.streaming.loop import LoopSettings, Processor, TransactionalLoop
from services.streaming.records import InputRecord, OutputRecord, Serde
from services.streaming.settings import KafkaSettings
from services.streaming.tables import GlobalTable

pytestmark = pytest.mark.integration
TEXT = Serde[str](encode=str.encode, decode=bytes.decode)
BACKLOG = 3000
CHANGE_AT = 300


def test_a_table_change_reaches_a_loop_that_is_still_working_through_a_backlog(
    kafka_settings: KafkaSettings,
) -> None:
    specs = [TopicSpec("in", False), TopicSpec("out", False), TopicSpec("table", True)]
    create_topics(kafka_settings, partitions=1, specs=specs)
    source, sink = kafka_settings.topic("in"), kafka_settings.topic("out")
    table_topic = kafka_settings.topic("table")
    producer = Producer(kafka_settings.producer())
    producer.produce(table_topic, key=b"version", value=b"old")
    for n in range(BACKLOG):
        producer.produce(source, key=b"k", value=str(n).encode())
    producer.flush(10)

    table = GlobalTable(kafka_settings, table_topic, TEXT)

    def handle(record: InputRecord) -> Iterator[OutputRecord]:
        if record.offset == CHANGE_AT and table.values["version"] == "old":
            producer.produce(table_topic, key=b"version", value=b"new")
            producer.flush(10)  # written: from the next transaction on, it may show
        time.sleep(0.0005)  # slow enough that transactions close on time, mid-poll
        yield OutputRecord(sink, record.key, table.values["version"].encode())

    processor = Processor(
        app_id=kafka_settings.topic("refresh-app"), inputs=[source], handle=handle, tables=[table]
    )
    loop = TransactionalLoop(
        processor, kafka_settings, LoopSettings(commit_interval_ms=20, max_batch_records=2000)
    )
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    try:
        seen = read(kafka_settings, sink, BACKLOG)
    finally:
        loop.stop()
        thread.join(30)
    assert seen[:CHANGE_AT] == ["old"] * CHANGE_AT
    first_new = seen.index("new") if "new" in seen else None
    assert first_new is not None and first_new < BACKLOG - 1000, (
        f"the change showed at output {first_new} of {BACKLOG}: only once the backlog drained"
    )
    assert seen[first_new:] == ["new"] * (BACKLOG - first_new)  # never back to the old one


def read(settings: KafkaSettings, topic: str, wanted: int, timeout_s: float = 60) -> list[str]:
    consumer = Consumer(settings.consumer(f"read-{uuid.uuid4().hex}"))
    consumer.subscribe([topic])
    values: list[str] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(values) < wanted and time.monotonic() < deadline:
            values += [m.value().decode() for m in consumer.consume(500, 0.5) if not m.error()]
    finally:
        consumer.close()
    assert len(values) == wanted, f"read {len(values)} of {wanted}"
    return values
