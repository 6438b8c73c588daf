"""Moving benchmark records in and out of the broker, and watching what becomes visible.

The `CommittedWatcher` is the one clock every throughput figure ends on: a read_committed
consumer that notes the wall time at which it has seen the expected number of records, so a
figure ends when the last output was *committed and readable*, not when it was sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from services.streaming.arrivals import arrivals
from services.streaming.settings import KafkaSettings


class KeyedBytes(Protocol):
    @property
    def key(self) -> bytes: ...
    @property
    def value(self) -> bytes: ...
    @property
    def headers(self) -> tuple[tuple[str, bytes], ...]: ...


def produce_all(settings: KafkaSettings, topic: str, records: Iterable[KeyedBytes]) -> int:
    """Write every record (idempotent, acks=all) and wait until all are acknowledged."""
    producer = Producer(settings.producer(**{"linger.ms": 20, "batch.size": 262144}))
    failures: list[str] = []

    def on_delivery(err: object, _msg: object) -> None:
        if err is not None:
            failures.append(str(err))

    count = 0
    for record in records:
        while True:
            try:
                producer.produce(
                    topic,
                    key=record.key,
                    value=record.value,
                    headers=list(record.headers),
                    on_delivery=on_delivery,
                )
                break
            except BufferError:
                producer.poll(0.05)
        count += 1
    remaining = producer.flush(120)
    if remaining or failures:
        raise RuntimeError(
            f"pre-producing to {topic}: {remaining} unacknowledged, {len(failures)} failed "
            f"({failures[:1]})"
        )
    return count


@dataclass(frozen=True, slots=True)
class Observed:
    """What a watcher saw: how many records (and distinct keys, when counted) and when."""

    records: int
    distinct_keys: int
    last_visible_s: float
    """Wall clock (time.time) when the expected count was reached, or the deadline passed."""
    first_created_s: float
    """The earliest CreateTime among the records seen, on the same wall clock."""


class CommittedWatcher:
    """Counts committed records on a topic until the expected number is visible.

    With `distinct=True` the count is of distinct keys (assignments are keyed by lead id, so a
    doubled decision would not count twice); otherwise of records.
    """

    def __init__(self, settings: KafkaSettings, topic: str, distinct: bool = False) -> None:
        self.topic = topic
        self.distinct = distinct
        self.consumer = Consumer(settings.reader(**{"fetch.wait.max.ms": 5}))
        partitions = self.consumer.list_topics(topic, timeout=10).topics[topic].partitions
        self.consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        self.records = 0
        self.keys: set[bytes | None] = set()
        self.first_ms: int | None = None

    def wait_for(
        self, expected: int, timeout_s: float, alive: Callable[[], bool] = lambda: True
    ) -> Observed:
        """Read until `expected` records (or keys) are visible, `timeout_s` passes, or the
        producer of the records is no longer `alive` (then what is visible is all there is)."""
        deadline = time.monotonic() + timeout_s
        while self._seen() < expected and time.monotonic() < deadline and alive():
            # arrivals(), not consume(n, timeout), which could end a figure that timeout late
            for message in arrivals(self.consumer, 5001, 0.05):
                if message.error():
                    continue
                self.records += 1
                if self.distinct:
                    self.keys.add(message.key())
                created = message.timestamp()[1]
                if self.first_ms is None or created < self.first_ms:
                    self.first_ms = created
        now = time.time()
        first = (self.first_ms or int(now * 1000)) / 1000
        return Observed(self.records, len(self.keys), now, first)

    def _seen(self) -> int:
        return len(self.keys) if self.distinct else self.records

    def close(self) -> None:
        self.consumer.close()


def first_create_time_s(settings: KafkaSettings, topic: str) -> float | None:
    """The earliest CreateTime on `topic` (first record of each partition), in seconds."""
    consumer = Consumer(settings.reader())
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        pending: set[int] = set()
        for partition in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            if high > low:
                pending.add(partition)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in pending])
        earliest: float | None = None
        deadline = time.monotonic() + 10
        while pending and time.monotonic() < deadline:
            for message in consumer.consume(len(pending), timeout=0.2):
                if message.error() or message.partition() not in pending:
                    continue
                partition = message.partition() or 0
                pending.discard(partition)
                created = message.timestamp()[1] / 1000
                earliest = created if earliest is None else min(earliest, created)
                consumer.pause([TopicPartition(topic, partition)])
        return earliest
    finally:
        consumer.close()
