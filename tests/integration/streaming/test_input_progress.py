"""What the loop tells a timer about its inputs, read off a real consumer, and global tables
that miss nothing written while they load."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import pytest
from confluent_kafka import Consumer, Producer

from services.leads.topics import TopicSpec
from services.streaming.admin import create_topics
from services.streaming.progress import InputProgress
from services.streaming.records import Serde
from services.streaming.settings import KafkaSettings
from services.streaming.tables import GlobalTable

pytestmark = pytest.mark.integration
TEXT = Serde[str](encode=str.encode, decode=bytes.decode)


def until(condition: Callable[[], bool], consumer: Consumer, timeout_s: float = 20) -> None:
    """Poll `consumer` (so rebalances and fetches happen) until `condition` holds."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        assert not consumer.consume(1, timeout=0.05), "this consumer was to read nothing"


class Group:
    """One consumer in a fresh group over `topics`, which notes its assignments in a progress."""

    def __init__(self, settings: KafkaSettings, topics: list[str], group: str) -> None:
        self.consumer = Consumer(settings.consumer(group, **{"fetch.wait.max.ms": 50}))
        self.progress = InputProgress(self.consumer, topics)
        self.assigned = False

        def on_assign(consumer: Consumer, partitions: list) -> None:
            self.progress.assigned(partitions)
            self.assigned = True

        self.consumer.subscribe(topics, on_assign=on_assign)

    def drain(self, partition: int, wanted: int) -> list[bytes]:
        values: list[bytes] = []
        deadline = time.monotonic() + 20
        while len(values) < wanted:
            assert time.monotonic() < deadline, f"read {len(values)} of {wanted}"
            for message in self.consumer.consume(100, timeout=0.1):
                assert message.error() is None and message.partition() == partition
                values.append(message.value())
        return values


def test_an_input_counts_as_read_to_the_end_only_once_the_consumer_knows_it_is(
    kafka_settings: KafkaSettings,
) -> None:
    create_topics(
        kafka_settings, partitions=1, specs=[TopicSpec("a", False), TopicSpec("b", False)]
    )
    a, b = kafka_settings.topic("a"), kafka_settings.topic("b")
    producer = Producer(kafka_settings.transactional_producer(f"w-{uuid.uuid4().hex}"))
    producer.init_transactions(30)
    producer.begin_transaction()
    producer.produce(a, key=b"k", value=b"1", partition=0)
    producer.commit_transaction(30)  # its marker takes an offset after the record
    producer.begin_transaction()
    producer.produce(a, key=b"k", value=b"aborted", partition=0)
    producer.flush(10)
    producer.abort_transaction(30)

    group = Group(kafka_settings, [a, b], f"g-{uuid.uuid4().hex}")
    try:
        assert group.progress.behind(0) == {a, b}  # nothing fetched yet: the ends are unknown
        assert group.drain(0, wanted=1) == [b"1"]
        # Past the marker and the aborted record; b, empty, is read to the end unconsumed.
        until(lambda: group.progress.behind(0) == frozenset(), group.consumer)

        plain = Producer(kafka_settings.producer())
        plain.produce(b, key=b"k", value=b"2", partition=0)
        plain.flush(10)
        group.consumer.pause(group.consumer.assignment())  # fetched, never handed over
        until(lambda: group.progress.behind(0) == {b}, group.consumer)
    finally:
        group.consumer.close()


def test_a_quiet_input_reads_as_caught_up_from_its_committed_offset_after_a_rebalance(
    kafka_settings: KafkaSettings,
) -> None:
    create_topics(kafka_settings, partitions=1, specs=[TopicSpec("a", False)])
    a = kafka_settings.topic("a")
    plain = Producer(kafka_settings.producer())
    for n in range(3):
        plain.produce(a, key=b"k", value=str(n).encode(), partition=0)
    plain.flush(10)
    name = f"g-{uuid.uuid4().hex}"
    first = Group(kafka_settings, [a], name)
    try:
        assert len(first.drain(0, wanted=3)) == 3
        first.consumer.commit(asynchronous=False)
    finally:
        first.consumer.close()

    second = Group(kafka_settings, [a], name)  # starts at the committed offset, consumes none
    try:
        until(lambda: second.assigned and second.progress.behind(0) == frozenset(), second.consumer)
    finally:
        second.consumer.close()


def test_a_global_table_keeps_every_record_written_while_it_loads(
    kafka_settings: KafkaSettings,
) -> None:
    create_topics(kafka_settings, partitions=2, specs=[TopicSpec("table", True)])
    topic = kafka_settings.topic("table")
    producer = Producer(kafka_settings.producer(**{"linger.ms": 0}))
    for n in range(2000):  # enough that the load takes a while
        producer.produce(topic, key=f"old-{n}".encode(), value=b"x")
    producer.flush(10)
    written: list[str] = []
    writing = threading.Event()
    writing.set()

    def write() -> None:
        n = 0
        while writing.is_set():
            key = f"new-{n}"
            producer.produce(topic, key=key.encode(), value=b"y")
            producer.flush(10)
            written.append(key)
            n += 1

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    tables = [GlobalTable(kafka_settings, topic, TEXT) for _ in range(5)]
    try:
        for table in tables:  # each load races the writer
            table.load()
        writing.clear()
        writer.join(10)
        for table in tables:
            deadline = time.monotonic() + 20
            while len(table.values) < 2000 + len(written) and time.monotonic() < deadline:
                table.refresh()
                time.sleep(0.05)
            missing = [key for key in written if key not in table.values]
            assert not missing, f"{len(missing)} records written during the load never arrived"
    finally:
        writing.clear()
        for table in tables:
            table.close()
