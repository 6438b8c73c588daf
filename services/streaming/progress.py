"""Which inputs of a partition this instance has read to the end, as far as the consumer knows.

A timer that fires on the wall clock must not overtake input already in the log: a first touch
written before the deadline, but not read yet, has to win. "Nothing arrived since the last tick"
does not prove that: right after an assignment each partition starts fetching on its own, and a
consumer holding more records than one poll returns delivers them later. So the loop asks the
consumer: an input is read to the end when its position has reached the high watermark of the
latest fetch response. Before a partition's first fetch response the watermark is unknown, and
the input counts as behind.

Positions only become known once a record is consumed, so the start is taken from the committed
offsets when the partitions are assigned (or the low watermark where the group never committed).
librdkafka moves the position past transaction markers and aborted records, so a quiet
transactional input does read as caught up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from confluent_kafka import OFFSET_INVALID, KafkaException, TopicPartition

from services.streaming.kafka_clients import ConsumerClient

log = logging.getLogger(__name__)


class InputProgress:
    def __init__(self, consumer: ConsumerClient, topics: Sequence[str]) -> None:
        self._consumer = consumer
        self._topics = tuple(topics)
        self._start: dict[tuple[str, int], int] = {}

    def assigned(self, partitions: list[TopicPartition]) -> None:
        """Note where reading starts in each newly assigned partition (its committed offset)."""
        try:
            committed = self._consumer.committed(partitions, timeout=10)
        except KafkaException as exc:
            # Without a start, a quiet input reads as behind until it delivers a record: timers
            # wait for it (never longer than the handler's catch-up bound), none fire early.
            log.warning("committed offsets unavailable (%s): inputs count as behind", exc)
            return
        for tp in committed:
            self._start[(tp.topic, tp.partition)] = tp.offset

    def behind(self, partition: int) -> frozenset[str]:
        """The input topics whose `partition` this instance has not read to the end."""
        return frozenset(topic for topic in self._topics if not self._read_to_end(topic, partition))

    def waiting(
        self,
        topics: Iterable[str],
        partitions: Iterable[int],
        ends: ConsumerClient,
        timeout_s: float = 1.0,
    ) -> int | None:
        """How many offsets of `topics`' `partitions` lie past this instance's position, the end
        asked of the broker through `ends` (not the last fetch's: a consumer whose queue is full
        does not fetch); None when an end or a position is unknown."""
        total = 0
        for topic in topics:
            for partition in partitions:
                tp = TopicPartition(topic, partition)
                try:
                    low, high = ends.get_watermark_offsets(tp, timeout=timeout_s)
                    (position,) = self._consumer.position([tp])
                except KafkaException:
                    return None
                offset = self._offset(topic, partition, position.offset, low)
                if high < 0 or offset is None:
                    return None
                total += max(0, high - offset)
        return total

    def _offset(self, topic: str, partition: int, position: int, low: int) -> int | None:
        """The next offset to read: the position, or where reading started when nothing was
        consumed since the assignment; None when that is unknown too."""
        if position != OFFSET_INVALID:
            return position
        start = self._start.get((topic, partition))
        if start is None:
            return None
        return low if start == OFFSET_INVALID else start  # never committed: from the start

    def _read_to_end(self, topic: str, partition: int) -> bool:
        tp = TopicPartition(topic, partition)
        try:
            low, high = self._consumer.get_watermark_offsets(tp, cached=True)
            (position,) = self._consumer.position([tp])
        except KafkaException:
            return False
        if high < 0:
            return False  # no fetch response yet: the end is unknown
        offset = self._offset(topic, partition, position.offset, low)
        return offset is not None and offset >= high
