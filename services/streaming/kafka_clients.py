"""The one seam between the streaming package and Kafka clients.

Everything in services/streaming that talks to Kafka gets its consumers and producers from a
`KafkaClients`, given a librdkafka config dict built by `KafkaSettings`. Services use
`CONFLUENT` (confluent-kafka, the default everywhere); tests of the loop's fault paths use the
in-memory twin (memory_broker.py), which implements the same calls and raises the same
`KafkaException(KafkaError(...))` values librdkafka does.

`ConsumerClient` and `ProducerClient` name exactly the surface the streaming package uses, so
the twin cannot drift into calls the loop never makes, and a new call made by the loop shows up
here (and in the twin) first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from confluent_kafka import Consumer, Message, Producer, TopicPartition

from services.streaming.settings import ClientConfig

RebalanceCallback = Callable[[Any, list[TopicPartition]], None]
"""(consumer, partitions): served inside the consumer's own poll/consume."""
DeliveryCallback = Callable[[Any, Any], None]
"""(KafkaError | None, Message): served inside the producer's poll/flush."""
ProducedHeaders = list[tuple[str, str | bytes | None]]


class ConsumerClient(Protocol):
    """The consumer calls the streaming package makes (confluent_kafka.Consumer's meaning)."""

    def subscribe(
        self,
        topics: list[str],
        on_assign: RebalanceCallback | None = ...,
        on_revoke: RebalanceCallback | None = ...,
        on_lost: RebalanceCallback | None = ...,
    ) -> None: ...

    def assign(self, partitions: list[TopicPartition]) -> None: ...

    def assignment(self) -> list[TopicPartition]: ...

    def poll(self, timeout: float = ...) -> Message | None: ...

    def consume(self, num_messages: int = ..., timeout: float = ...) -> list[Message]: ...

    def seek(self, partition: TopicPartition) -> None: ...

    def pause(self, partitions: list[TopicPartition]) -> None: ...

    def resume(self, partitions: list[TopicPartition]) -> None: ...

    def position(self, partitions: list[TopicPartition]) -> list[TopicPartition]: ...

    def committed(
        self, partitions: list[TopicPartition], timeout: float = ...
    ) -> list[TopicPartition]: ...

    def get_watermark_offsets(
        self, partition: TopicPartition, timeout: float = ..., cached: bool = ...
    ) -> tuple[int, int]: ...

    def consumer_group_metadata(self) -> Any: ...

    def list_topics(self, topic: str | None = ..., timeout: float = ...) -> Any: ...

    def close(self) -> None: ...


class ProducerClient(Protocol):
    """The producer calls the streaming package makes. `produce` raises BufferError when the
    local queue is full and KafkaException for what it refuses at once (too large, no such
    partition); a record the broker refuses later fails the transaction's commit instead."""

    def init_transactions(self, timeout: float = ...) -> None: ...

    def begin_transaction(self) -> None: ...

    def produce(
        self,
        topic: str,
        value: str | bytes | None = ...,
        key: str | bytes | None = ...,
        partition: int = ...,
        *,
        on_delivery: DeliveryCallback | None = ...,
        headers: ProducedHeaders | None = ...,
    ) -> None: ...

    def poll(self, timeout: float = ...) -> int: ...

    def flush(self, timeout: float = ...) -> int: ...

    def send_offsets_to_transaction(
        self, positions: list[TopicPartition], group_metadata: Any, timeout: float = ...
    ) -> None: ...

    def commit_transaction(self, timeout: float = ...) -> None: ...

    def abort_transaction(self, timeout: float = ...) -> None: ...


class KafkaClients(Protocol):
    """Makes the clients of one process from librdkafka config dicts."""

    def consumer(self, config: ClientConfig) -> ConsumerClient: ...

    def producer(self, config: ClientConfig) -> ProducerClient: ...


class ConfluentClients:
    """The real clients: confluent-kafka over librdkafka."""

    def consumer(self, config: ClientConfig) -> ConsumerClient:
        return Consumer(config)

    def producer(self, config: ClientConfig) -> ProducerClient:
        return Producer(config)


CONFLUENT: KafkaClients = ConfluentClients()
