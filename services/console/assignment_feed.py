"""Reading `leads.assignments` for people: every partition, read_committed, decoded.

The feed belongs to no consumer group and commits nothing (it assigns partitions by hand), so
watching never moves a real consumer's offsets or triggers a rebalance.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, KafkaException, TopicPartition

from services.leads.events import Assignment
from services.leads.topics import Topic
from services.streaming.arrivals import arrivals
from services.streaming.codec import AvroCodec
from services.streaming.errors import DecodeError, TransientError
from services.streaming.settings import KafkaSettings


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One record of the topic: the decoded assignment, or why it could not be decoded."""

    partition: int
    offset: int
    assignment: Assignment | None
    error: str | None = None


class AssignmentFeed:
    def __init__(self, settings: KafkaSettings, *, from_beginning: bool) -> None:
        self.topic = settings.topic(Topic.ASSIGNMENTS)
        self.codec = AvroCodec(Assignment)
        self.consumer = Consumer(settings.reader(**{"fetch.wait.max.ms": 100}))
        try:
            metadata = self.consumer.list_topics(self.topic, timeout=10)
        except KafkaException as exc:
            self.consumer.close()
            raise TransientError(f"cannot reach the broker to read {self.topic}: {exc}") from exc
        described = metadata.topics.get(self.topic)
        if described is None or described.error is not None:
            self.consumer.close()
            raise TransientError(f"topic {self.topic} is missing (run `leadrouter topics create`)")
        start = OFFSET_BEGINNING if from_beginning else OFFSET_END
        self.consumer.assign([TopicPartition(self.topic, p, start) for p in described.partitions])

    def poll(self, timeout_s: float, max_records: int = 500) -> Iterator[FeedItem]:
        """What arrived within `timeout_s`; undecodable records come back with their reason."""
        for message in arrivals(self.consumer, max_records, timeout_s):
            if message.error():
                raise TransientError(f"reading {self.topic}: {message.error()}")
            partition, offset = message.partition() or 0, message.offset() or 0
            try:
                assignment = self.codec.decode(message.value())
            except DecodeError as exc:
                yield FeedItem(partition, offset, None, str(exc))
                continue
            yield FeedItem(partition, offset, assignment)

    def close(self) -> None:
        self.consumer.close()
