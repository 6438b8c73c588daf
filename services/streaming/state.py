"""State stores over compacted topics: a key-value map per input partition.

A store's topic has the input's partition count, and partition N of the input keeps its state in
partition N of the store's topic, so the two always move together. Writes made while a
transaction is open sit in an overlay; `flush()` turns the overlay into state records inside the
transaction (one record per key however often it changed), `commit()` folds it into the
committed map once the transaction has committed, and `rollback()` drops it on abort, so memory
always matches what the topic says.

Inside a transaction each input record gets a savepoint: `savepoint()` before the record,
`undo_to_savepoint()` when its handling fails, so a record that is dead-lettered leaves no state
write behind while the rest of its batch commits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar, cast

from confluent_kafka import OFFSET_BEGINNING, KafkaError, KafkaException, TopicPartition

from services.streaming.errors import TransientError
from services.streaming.kafka_clients import CONFLUENT, ConsumerClient, KafkaClients
from services.streaming.records import OutputRecord, Serde
from services.streaming.settings import KafkaSettings

T = TypeVar("T")
_DELETED = object()
_ABSENT = object()
ApplyFn = Callable[[int, bytes | None, bytes | None], None]
"""Receives (partition, key, value) for each record read."""


class StateStore(Generic[T]):
    def __init__(self, topic: str, serde: Serde[T]) -> None:
        self.topic = topic
        self.serde = serde
        self._committed: dict[int, dict[str, T]] = {}
        self._pending: dict[int, dict[str, object]] = {}
        self._undo: dict[tuple[int, str], object] = {}
        """What each key written since the savepoint was pending before its first write."""

    # -- what a handler uses -------------------------------------------------------------
    def get(self, partition: int, key: str) -> T | None:
        pending = self._pending.get(partition)
        if pending is not None and key in pending:
            value = pending[key]
            return None if value is _DELETED else cast(T, value)
        return self._partition(partition).get(key)

    def put(self, partition: int, key: str, value: T) -> None:
        self._write(partition, key, value)

    def delete(self, partition: int, key: str) -> None:
        self._write(partition, key, _DELETED)

    def _write(self, partition: int, key: str, value: object) -> None:
        self._partition(partition)  # refuse partitions this instance does not own
        pending = self._pending.setdefault(partition, {})
        if (partition, key) not in self._undo:
            self._undo[partition, key] = pending.get(key, _ABSENT)
        pending[key] = value

    def items(self, partition: int) -> Iterator[tuple[str, T]]:
        """Every live entry of a partition, pending writes included."""
        pending = self._pending.get(partition, {})
        for key, value in self._partition(partition).items():
            if key not in pending:
                yield key, value
        for key, written in pending.items():
            if written is not _DELETED:
                yield key, cast(T, written)

    def __len__(self) -> int:
        return sum(len(p) for p in self._committed.values())

    # -- what the loop uses ----------------------------------------------------------------
    @property
    def has_pending(self) -> bool:
        return any(self._pending.values())

    @property
    def partitions(self) -> set[int]:
        return set(self._committed)

    def savepoint(self) -> None:
        """Mark the pending writes so far as kept: the next input record starts here."""
        if self._undo:
            self._undo.clear()

    def undo_to_savepoint(self) -> None:
        """Forget every write since the last savepoint (the record being handled failed)."""
        for (partition, key), before in self._undo.items():
            pending = self._pending.get(partition)
            if pending is None:
                continue  # dropped meanwhile: nothing of it is left to undo
            if before is _ABSENT:
                pending.pop(key, None)
            else:
                pending[key] = before
        self._undo.clear()

    def flush(self) -> list[OutputRecord]:
        records = []
        for partition, pending in self._pending.items():
            for key, value in pending.items():
                body = None if value is _DELETED else self.serde.encode(cast(T, value))
                records.append(OutputRecord(self.topic, key.encode(), body, partition=partition))
        return records

    def commit(self) -> None:
        for partition, pending in self._pending.items():
            table = self._committed.get(partition)
            if table is None:
                continue  # the partition was revoked while its writes were in flight
            for key, value in pending.items():
                if value is _DELETED:
                    table.pop(key, None)
                else:
                    table[key] = cast(T, value)
        self._pending.clear()
        self._undo.clear()

    def rollback(self) -> None:
        self._pending.clear()
        self._undo.clear()

    def drop(self, partitions: Iterable[int]) -> None:
        for partition in partitions:
            self._committed.pop(partition, None)
            self._pending.pop(partition, None)

    def restore(
        self, settings: KafkaSettings, partitions: Iterable[int], clients: KafkaClients = CONFLUENT
    ) -> int:
        """Read each partition from the beginning to its high watermark; returns records read."""
        wanted = sorted(set(partitions) - self.partitions)
        if not wanted:
            return 0
        tables: dict[int, dict[str, T]] = {p: {} for p in wanted}
        count = read_to_end(
            settings,
            self.topic,
            wanted,
            lambda p, k, v: _apply(tables[p], k, v, self.serde),
            clients=clients,
        )
        for partition, entries in tables.items():
            self.adopt(partition, entries)
        return count

    def adopt(self, partition: int, entries: dict[str, T] | None = None) -> None:
        """Own `partition` with these committed entries: restore ends here; tests start here."""
        self._committed[partition] = dict(entries or {})
        self._pending.pop(partition, None)

    def _partition(self, partition: int) -> dict[str, T]:
        try:
            return self._committed[partition]
        except KeyError:
            raise KeyError(f"{self.topic}[{partition}] is not restored on this instance") from None


def _apply(table: dict[str, T], key: bytes | None, value: bytes | None, serde: Serde[T]) -> None:
    if key is None:
        return
    if value is None:
        table.pop(key.decode(), None)
    else:
        table[key.decode()] = serde.decode(value)


def read_to_end(
    settings: KafkaSettings,
    topic: str,
    partitions: list[int],
    apply: ApplyFn,
    timeout_s: float = 120.0,
    *,
    clients: KafkaClients = CONFLUENT,
) -> int:
    """Feed every committed record of `partitions` to `apply`, up to the high watermarks."""
    consumer = clients.consumer(settings.reader(**{"fetch.wait.max.ms": 10}))
    try:
        return drain_to_end(consumer, topic, partitions, apply, timeout_s)
    finally:
        consumer.close()


def drain_to_end(
    consumer: ConsumerClient,
    topic: str,
    partitions: list[int],
    apply: ApplyFn,
    timeout_s: float = 120.0,
) -> int:
    """Assign `partitions` to `consumer` from the beginning and feed every committed record to
    `apply` until each position reaches the high watermark read at the start; returns how many.

    The consumer stays assigned, so whoever follows the topic afterwards goes on from exactly
    where this stopped: nothing written meanwhile falls between the read and the tail.
    Done means the consumer *position* reached the high watermark, not that the last record
    was seen: transaction markers take offsets too, so "last offset + 1" can stop short.
    """
    try:
        ends: dict[int, int] = {}
        for partition in partitions:
            low, high = _watermarks(consumer, TopicPartition(topic, partition))
            if high > low:
                ends[partition] = high
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        count, deadline = 0, time.monotonic() + timeout_s
        while ends:
            for message in consumer.consume(1000, timeout=0.2):
                if message.error():
                    raise TransientError(f"restoring {topic}: {message.error()}")
                apply(message.partition() or 0, message.key(), message.value())
                count += 1
            for tp in consumer.position([TopicPartition(topic, p) for p in ends]):
                if tp.offset >= ends[tp.partition]:
                    del ends[tp.partition]
            if time.monotonic() > deadline:
                raise TransientError(
                    f"restoring {topic} did not reach the end in {timeout_s:.0f} s"
                )
        return count
    except KafkaException as exc:
        raise TransientError(f"restoring {topic}: {exc}") from exc


_SETTLING = (
    KafkaError._UNKNOWN_PARTITION,
    KafkaError._UNKNOWN_TOPIC,
    KafkaError.UNKNOWN_TOPIC_OR_PART,
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.LEADER_NOT_AVAILABLE,
)
"""What a partition's watermarks answer while the client's metadata catches up with a topic
just made, or a leader just moved: asked again, not failed."""


def _watermarks(
    consumer: ConsumerClient, partition: TopicPartition, timeout_s: float = 10.0
) -> tuple[int, int]:
    """(low, high) of `partition`, asked again for up to `timeout_s` while it is settling."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return consumer.get_watermark_offsets(partition, timeout=timeout_s)
        except KafkaException as exc:
            if exc.args[0].code() not in _SETTLING or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
