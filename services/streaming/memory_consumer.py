"""The consumer of the in-memory broker twin (see memory_broker.py for what it models); each
call means what the same call of confluent_kafka.Consumer means.

A partition's start is resolved on the first consume/poll after it is assigned (the committed
offset, else `auto.offset.reset`); until then its position is OFFSET_INVALID, as in librdkafka
before the first fetch. Reading moves the position past markers and aborted records, so a
read_committed consumer that has read everything stands at the last stable offset.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_END,
    OFFSET_INVALID,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from services.streaming.kafka_clients import RebalanceCallback
from services.streaming.memory_cluster import Cluster, GroupMetadata, Partition, kafka_error
from services.streaming.settings import ClientConfig


class MemoryConsumer:
    def __init__(self, broker: Cluster, config: ClientConfig, member_id: int) -> None:
        self.broker = broker
        self.member_id = member_id
        self.group_id = str(config.get("group.id", ""))
        self.read_committed = config.get("isolation.level", "read_committed") == "read_committed"
        self.from_start = config.get("auto.offset.reset", "latest") in {"earliest", "smallest"}
        self.subscription: list[str] = []
        self.callbacks: dict[str, RebalanceCallback | None] = {}
        self.positions: dict[Partition, int | None] = {}
        """The assignment: each partition's next offset, None until its start is resolved."""
        self.starts: dict[Partition, int] = {}
        """Where `assign` asked each partition to start (a logical offset or a number)."""
        self.fetched: dict[Partition, tuple[int, int]] = {}
        """Watermarks as of the last fetch (what `cached=True` answers)."""
        self.paused: set[Partition] = set()
        """Not fetched until resumed; kept through rebalances, as librdkafka does."""
        self.generation = 0
        self.lost = False
        self.closed = False

    # -- group membership --------------------------------------------------------------------
    def subscribe(
        self,
        topics: list[str],
        on_assign: RebalanceCallback | None = None,
        on_revoke: RebalanceCallback | None = None,
        on_lost: RebalanceCallback | None = None,
    ) -> None:
        with self.broker.lock:
            self._alive()
            for name in topics:
                self.broker.topic(name)
            self.subscription = list(topics)
            self.callbacks = {"assign": on_assign, "revoke": on_revoke, "lost": on_lost}
            self.broker.join(self.group_id, self)

    def assign(self, partitions: list[TopicPartition]) -> None:
        with self.broker.lock:
            self._alive()
            self.positions = {(tp.topic, tp.partition): None for tp in partitions}
            self.starts = {(tp.topic, tp.partition): tp.offset for tp in partitions}

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition(t, p) for t, p in self.positions]

    def consumer_group_metadata(self) -> Any:
        return GroupMetadata(self.group_id)

    def close(self) -> None:
        if self.closed:
            return
        if self.subscription and self.positions:  # librdkafka revokes before leaving
            self._callback("revoke", list(self.positions))
        with self.broker.lock:
            self.broker.leave(self)
            self.positions = {}
            self.closed = True

    def _serve_group(self) -> None:
        """The rebalance callbacks due to this member, served in its own poll as librdkafka
        does: lost (then rejoin), revoke (then wait for the others), assign."""
        if not self.subscription:
            return
        with self.broker.lock:
            lost = list(self.positions) if self.lost else None
            self.lost = False
        if lost is not None:
            self._callback("lost" if self.callbacks.get("lost") else "revoke", lost)
            with self.broker.lock:
                self.positions = {}
                self.broker.join(self.group_id, self)
        group = self.broker.groups[self.group_id]
        with self.broker.lock:
            revoke = None
            if group.generation != self.generation and self.member_id not in group.rejoined:
                revoke = list(self.positions)
        if revoke is not None:
            if revoke:
                self._callback("revoke", revoke)
            with self.broker.lock:
                self.positions = {}
                group.rejoined.add(self.member_id)
        with self.broker.lock:
            share = None
            if group.generation != self.generation:
                share = self.broker.assignment_of(group, self)
            if share is not None:
                self.generation = group.generation
                self.positions = dict.fromkeys(share)
                self.starts = {}
        if share is not None:
            self._callback("assign", share)

    def _callback(self, kind: str, partitions: list[Partition]) -> None:
        callback = self.callbacks.get(kind)
        if callback is not None:
            callback(self, [TopicPartition(t, p) for t, p in partitions])

    # -- reading -----------------------------------------------------------------------------
    def consume(self, num_messages: int = 1, timeout: float = -1) -> list[Message]:
        """Returns as soon as anything is readable (librdkafka waits for `num_messages` or the
        timeout); an injected failure is raised as KafkaException."""
        self._alive()
        error = self.broker.injected("consume")
        if error is not None:
            raise KafkaException(error)
        deadline = time.monotonic() + (3600.0 if timeout < 0 else timeout)
        while True:
            self._serve_group()
            with self.broker.lock:
                messages = self._fetch(num_messages)
                remaining = deadline - time.monotonic()
                if messages or remaining <= 0:
                    return messages
                self.broker.changed.wait(min(remaining, 0.05))

    def poll(self, timeout: float = -1) -> Message | None:
        messages = self.consume(1, timeout)
        return messages[0] if messages else None

    def _fetch(self, limit: int) -> list[Message]:
        messages: list[Message] = []
        for (topic, number), known in self.positions.items():
            if (topic, number) in self.paused:
                continue
            log = self.broker.topics[topic].partitions[number]
            position = self._start(topic, number) if known is None else known
            end = self._end(topic, number)
            while position < end and len(messages) < limit:
                entry = log[position]
                visible = entry.txn is None or entry.txn.state == "committed"
                if not entry.marker and (visible or not self.read_committed):
                    messages.append(entry.message(topic, number, position))
                position += 1
            self.positions[(topic, number)] = position
            self.fetched[(topic, number)] = (0, len(log))
        return messages

    def _start(self, topic: str, number: int) -> int:
        wanted = self.starts.get((topic, number), OFFSET_INVALID)
        if wanted >= 0:
            return wanted
        if wanted == OFFSET_BEGINNING:
            return 0
        if wanted == OFFSET_END:
            return self._end(topic, number)
        group = self.broker.groups.get(self.group_id)
        committed = None if group is None else group.committed.get((topic, number))
        if committed is not None:
            return committed
        return 0 if self.from_start else self._end(topic, number)

    def _end(self, topic: str, number: int) -> int:
        if self.read_committed:
            return self.broker.stable_end(topic, number)
        return len(self.broker.topics[topic].partitions[number])

    # -- positions and offsets ---------------------------------------------------------------
    def seek(self, partition: TopicPartition) -> None:
        with self.broker.lock:
            self._alive()
            tp = (partition.topic, partition.partition)
            if tp not in self.positions:
                raise kafka_error(KafkaError._STATE, f"{tp} is not assigned")
            self.starts[tp] = partition.offset
            self.positions[tp] = None if partition.offset < 0 else partition.offset

    def pause(self, partitions: list[TopicPartition]) -> None:
        with self.broker.lock:
            self._alive()
            self.paused |= {_key(tp) for tp in partitions}

    def resume(self, partitions: list[TopicPartition]) -> None:
        with self.broker.lock:
            self._alive()
            self.paused -= {_key(tp) for tp in partitions}
            self.broker.changed.notify_all()

    def position(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        with self.broker.lock:
            self._alive()
            return [
                TopicPartition(tp.topic, tp.partition, _known(self.positions, tp))
                for tp in partitions
            ]

    def committed(
        self, partitions: list[TopicPartition], timeout: float = -1
    ) -> list[TopicPartition]:
        with self.broker.lock:
            self._alive()
            pending = {
                tp for txn in self.broker.open.values() for tp in txn.offsets.get(self.group_id, {})
            }
            if any(_key(tp) in pending for tp in partitions):
                # the broker answers UNSTABLE_OFFSET_COMMIT until the transaction ends
                raise kafka_error(KafkaError._TIMED_OUT, "Failed to get committed offsets")
            group = self.broker.groups.get(self.group_id)
            offsets = {} if group is None else group.committed
            return [
                TopicPartition(tp.topic, tp.partition, offsets.get(_key(tp), OFFSET_INVALID))
                for tp in partitions
            ]

    def get_watermark_offsets(
        self, partition: TopicPartition, timeout: float = -1, cached: bool = False
    ) -> tuple[int, int]:
        """A query answers the last stable offset as the end to a read_committed consumer
        (Kafka's ListOffsets does); `cached` answers the high watermark of the last fetch."""
        with self.broker.lock:
            self._alive()
            topic = self.broker.topic(partition.topic)
            if partition.partition >= len(topic.partitions):
                raise kafka_error(KafkaError._UNKNOWN_PARTITION, str(_key(partition)))
            if cached:
                return self.fetched.get(_key(partition), (OFFSET_INVALID, OFFSET_INVALID))
            return 0, self._end(partition.topic, partition.partition)

    def list_topics(self, topic: str | None = None, timeout: float = -1) -> Any:
        with self.broker.lock:
            self._alive()
            metadata = ClusterInfo()
            for name in list(self.broker.topics) if topic is None else [topic]:
                known = self.broker.topics.get(name)
                if known is None:
                    error = KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART)
                    metadata.topics[name] = TopicInfo(name, {}, error)
                else:
                    numbers = range(len(known.partitions))
                    metadata.topics[name] = TopicInfo(name, dict.fromkeys(numbers), None)
            return metadata

    def _alive(self) -> None:
        if self.closed:
            raise RuntimeError("Consumer closed")


@dataclass(frozen=True, slots=True)
class TopicInfo:
    """The fields of confluent-kafka's TopicMetadata that callers read."""

    topic: str
    partitions: dict[int, None]
    error: KafkaError | None


@dataclass(frozen=True, slots=True)
class ClusterInfo:
    """What `list_topics` answers: the `topics` of confluent-kafka's ClusterMetadata."""

    topics: dict[str, TopicInfo] = field(default_factory=dict)


def _key(tp: TopicPartition) -> Partition:
    return (tp.topic, tp.partition)


def _known(positions: dict[Partition, int | None], tp: TopicPartition) -> int:
    position = positions.get(_key(tp))
    return OFFSET_INVALID if position is None else position
