"""Global tables: a compacted topic read whole by every instance (routing config, presence).

Unlike a state store, a global table is not partitioned with the input: every instance needs all
of it. The loop calls `refresh()` between transactions only, so a batch never sees the table
change halfway (a config switch is atomic between batches).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from confluent_kafka import KafkaException, TopicPartition

from services.streaming.errors import TransientError
from services.streaming.kafka_clients import CONFLUENT, ConsumerClient, KafkaClients
from services.streaming.records import Serde
from services.streaming.settings import KafkaSettings
from services.streaming.state import drain_to_end

T = TypeVar("T")


class DecodedOnRead(Mapping[str, T]):
    """A table's values kept as the bytes read, each decoded when first looked up and then
    kept: a table written far more than it is read (the identity links: two records a lead,
    of which a lead looks up its own two; the owner facts: two a lead, looked up only by a
    later lead of the same person or account) decodes only what is used. A value that fails to
    decode raises `DecodeError` to the lookup, so the handler's record is dead-lettered."""

    def __init__(self, decode: Callable[[bytes], T]) -> None:
        self._decode = decode
        self._raw: dict[str, bytes] = {}
        self._decoded: dict[str, T] = {}

    def put(self, key: str, value: bytes | None) -> None:
        self._decoded.pop(key, None)
        if value is None:
            self._raw.pop(key, None)
        else:
            self._raw[key] = value

    def __getitem__(self, key: str) -> T:
        found = self._decoded.get(key)
        if found is None:
            found = self._decoded[key] = self._decode(self._raw[key])
        return found

    def get(self, key: str, default: Any = None) -> Any:
        found = self._decoded.get(key)
        if found is not None:
            return found
        raw = self._raw.get(key)
        if raw is None:
            return default
        found = self._decoded[key] = self._decode(raw)
        return found

    def __contains__(self, key: object) -> bool:
        return key in self._raw

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


class GlobalTable(Generic[T]):
    def __init__(
        self,
        settings: KafkaSettings,
        topic: str,
        serde: Serde[T],
        clients: KafkaClients = CONFLUENT,
        *,
        decode_on_read: bool = False,
    ) -> None:
        """`decode_on_read`: `values` is a `DecodedOnRead` (and `on_change` is not served)."""
        self.settings = settings
        self.clients = clients
        self.topic = topic
        self.serde = serde
        self._decoded: dict[str, T] = {}
        self._lazy = DecodedOnRead(serde.decode) if decode_on_read else None
        self.values: Mapping[str, T] = self._decoded if self._lazy is None else self._lazy
        self.on_change: list[Callable[[str, T | None], None]] = []
        self.position: tuple[int, ...] = ()
        """Per partition (index = partition number), the offset below which every record is
        applied. Replaced, never changed in place, and only when a load or refresh applied
        records: a reader can tell "the table moved" by identity, once per record for free."""
        self._consumer: ConsumerClient | None = None

    def load(self) -> None:
        """Block until every record up to the high watermark is in; then follow the tail with
        the same consumer, so a record written during the load is applied on the next refresh
        (a second consumer started "at the end" could skip it)."""
        consumer = self.clients.consumer(self.settings.reader(**{"fetch.wait.max.ms": 50}))
        try:
            partitions = self._partitions()
            drain_to_end(consumer, self.topic, partitions, self._apply)
            reached = consumer.position([TopicPartition(self.topic, p) for p in partitions])
        except KafkaException as exc:
            consumer.close()
            raise TransientError(f"reading {self.topic}: {exc}") from exc
        except BaseException:
            consumer.close()
            raise
        self._consumer = consumer
        # An empty partition has no position yet (a negative sentinel): nothing below 0 exists.
        self._advance({tp.partition: max(tp.offset, 0) for tp in reached})

    def refresh(self) -> int:
        """Apply whatever arrived since the last call, without waiting; returns how many."""
        if self._consumer is None:
            return 0
        messages = self._consumer.consume(1000, timeout=0)
        reached: dict[int, int] = {}
        for message in messages:
            if message.error():
                raise TransientError(f"reading {self.topic}: {message.error()}")
            partition = message.partition() or 0
            self._apply(partition, message.key(), message.value())
            reached[partition] = (message.offset() or 0) + 1
        if reached:
            self._advance(reached)
        return len(messages)

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None

    def _advance(self, reached: dict[int, int]) -> None:
        offsets = dict(enumerate(self.position)) | reached
        if offsets:
            self.position = tuple(offsets.get(p, 0) for p in range(max(offsets) + 1))

    def _partitions(self) -> list[int]:
        probe = self.clients.consumer(self.settings.reader())
        try:
            metadata = probe.list_topics(self.topic, timeout=10)
        except KafkaException as exc:
            raise TransientError(f"cannot read {self.topic}: {exc}") from exc
        finally:
            probe.close()
        topic = metadata.topics.get(self.topic)
        if topic is None or topic.error is not None:
            raise TransientError(f"topic {self.topic} is missing (run `leadrouter topics create`)")
        return sorted(topic.partitions)

    def _apply(self, _partition: int, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        name = key.decode()
        if self._lazy is not None:
            self._lazy.put(name, value)
            return
        decoded = None if value is None else self.serde.decode(value)
        if decoded is None:
            self._decoded.pop(name, None)
        else:
            self._decoded[name] = decoded
        for listener in self.on_change:
            listener(name, decoded)
