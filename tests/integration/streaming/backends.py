"""The two brokers the paired suite runs against: the in-memory twin and the real one.

A `Backend` gives clients, settings whose topic names carry the test's prefix, a way to create
topics, and a way to make the next transaction commit fail. The twin fails through its own
`fail_next`; the real broker through clients whose producer raises the queued error from
`commit_transaction` before reaching Kafka, after which the loop aborts a real transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from services.streaming.kafka_clients import (
    CONFLUENT,
    ConsumerClient,
    KafkaClients,
    ProducerClient,
)
from services.streaming.memory_broker import MemoryBroker
from services.streaming.settings import ClientConfig, KafkaSettings


@dataclass(frozen=True)
class Backend:
    name: str
    clients: KafkaClients
    settings: KafkaSettings
    create_topic: Callable[..., str]
    """(name, partitions=1, max_message_bytes=None, compacted=False) -> the prefixed name."""
    fail_next_commit: Callable[[KafkaError], None]


def twin_backend(unique: str) -> Backend:
    broker = MemoryBroker()
    settings = KafkaSettings(bootstrap_servers="memory:0", topic_prefix=f"t{unique}.")

    def create(
        name: str, partitions: int = 1, max_message_bytes: int | None = None, **_: Any
    ) -> str:
        broker.create_topic(settings.topic(name), partitions, max_message_bytes)
        return settings.topic(name)

    return Backend(
        "twin", broker, settings, create, lambda e: broker.fail_next("commit_transaction", e)
    )


def real_backend(settings: KafkaSettings) -> Backend:
    clients = CommitFailingClients()

    def create(
        name: str,
        partitions: int = 1,
        max_message_bytes: int | None = None,
        compacted: bool = False,
    ) -> str:
        config = {"cleanup.policy": "compact"} if compacted else {}
        if max_message_bytes is not None:
            config["max.message.bytes"] = str(max_message_bytes)
        admin = AdminClient(settings.admin())
        topic = NewTopic(settings.topic(name), partitions, 1, config=config)
        for future in admin.create_topics([topic]).values():
            future.result(30)
        return settings.topic(name)

    return Backend("broker", clients, settings, create, clients.faults.append)


class CommitFailingClients:
    """confluent-kafka clients whose producers raise each queued error from one
    `commit_transaction` before committing (the real transaction stays open to be aborted)."""

    def __init__(self) -> None:
        self.faults: list[KafkaError] = []

    def consumer(self, config: ClientConfig) -> ConsumerClient:
        return CONFLUENT.consumer(config)

    def producer(self, config: ClientConfig) -> ProducerClient:
        return cast(ProducerClient, _CommitFailingProducer(CONFLUENT.producer(config), self.faults))


class _CommitFailingProducer:
    def __init__(self, inner: ProducerClient, faults: list[KafkaError]) -> None:
        self._inner, self._faults = inner, faults

    def commit_transaction(self, timeout: float = -1) -> None:
        if self._faults:
            raise KafkaException(self._faults.pop(0))
        self._inner.commit_transaction(timeout)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
