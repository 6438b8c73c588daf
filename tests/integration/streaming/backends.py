"""The two brokers the paired suite runs against: the in-memory twin and the real one.

A `Backend` gives clients, settings whose topic names carry the test's prefix, a way to create
topics, and a way to make the next call of a transactional method fail. The twin fails through
its own `fail_next`; the real broker through clients whose producer raises the queued error
from that call before reaching Kafka, after which the loop aborts (or retries) a real
transaction.
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
from services.streaming.state import read_to_end


@dataclass(frozen=True)
class Backend:
    name: str
    clients: KafkaClients
    settings: KafkaSettings
    create_topic: Callable[..., str]
    """(name, partitions=1, max_message_bytes=None, compacted=False) -> the prefixed name."""
    fail_next: Callable[[str, KafkaError], None]
    """(producer method, error): the next call of that method raises the error."""


def twin_backend(unique: str) -> Backend:
    broker = MemoryBroker()
    settings = KafkaSettings(bootstrap_servers="memory:0", topic_prefix=f"t{unique}.")

    def create(
        name: str, partitions: int = 1, max_message_bytes: int | None = None, **_: Any
    ) -> str:
        broker.create_topic(settings.topic(name), partitions, max_message_bytes)
        return settings.topic(name)

    return Backend("twin", broker, settings, create, broker.fail_next)


def real_backend(settings: KafkaSettings) -> Backend:
    clients = FaultInjectingClients()

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

    return Backend("broker", clients, settings, create, clients.fail_next)


INJECTABLE = ("commit_transaction", "send_offsets_to_transaction", "abort_transaction")


class FaultInjectingClients:
    """confluent-kafka clients whose producers raise each queued error from one call of
    `commit_transaction` or `send_offsets_to_transaction` before making it (the real
    transaction stays open, to be aborted or committed by a retry)."""

    def __init__(self) -> None:
        self.faults: dict[str, list[KafkaError]] = {call: [] for call in INJECTABLE}

    def fail_next(self, call: str, error: KafkaError) -> None:
        self.faults[call].append(error)

    def consumer(self, config: ClientConfig) -> ConsumerClient:
        return CONFLUENT.consumer(config)

    def producer(self, config: ClientConfig) -> ProducerClient:
        producer = _FaultInjectingProducer(CONFLUENT.producer(config), self.faults)
        return cast(ProducerClient, producer)


class _FaultInjectingProducer:
    def __init__(self, inner: ProducerClient, faults: dict[str, list[KafkaError]]) -> None:
        self._inner, self._faults = inner, faults

    def commit_transaction(self, timeout: float = -1) -> None:
        self._raise_queued("commit_transaction")
        self._inner.commit_transaction(timeout)

    def send_offsets_to_transaction(self, *args: Any) -> None:
        self._raise_queued("send_offsets_to_transaction")
        self._inner.send_offsets_to_transaction(*args)

    def abort_transaction(self, timeout: float = -1) -> None:
        self._raise_queued("abort_transaction")
        self._inner.abort_transaction(timeout)

    def _raise_queued(self, call: str) -> None:
        if self._faults[call]:
            raise KafkaException(self._faults[call].pop(0))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def values(backend: Backend, topic: str, partitions: int = 1) -> list[bytes | None]:
    """Every record read_committed shows in `topic`, in offset order per partition."""
    seen: list[bytes | None] = []
    read_to_end(
        backend.settings,
        topic,
        list(range(partitions)),
        lambda _p, _k, v: seen.append(v),
        timeout_s=30,
        clients=backend.clients,
    )
    return seen
