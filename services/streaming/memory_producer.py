"""The producer of the in-memory broker twin (see memory_broker.py for what it models); each
call means what the same call of confluent_kafka.Producer means, and fails as it does."""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, TopicPartition

from services.streaming.kafka_clients import DeliveryCallback, ProducedHeaders
from services.streaming.memory_cluster import (
    Cluster,
    Entry,
    GroupMetadata,
    Transaction,
    kafka_error,
    now_ms,
)
from services.streaming.settings import ClientConfig

_DEFAULT_MAX_MESSAGE_BYTES = 1_000_000  # librdkafka's message.max.bytes


class MemoryProducer:
    def __init__(self, broker: Cluster, config: ClientConfig) -> None:
        self.broker = broker
        tid = config.get("transactional.id")
        self.transactional_id = None if tid is None else str(tid)
        self.max_message_bytes = int(config.get("message.max.bytes", _DEFAULT_MAX_MESSAGE_BYTES))
        self.epoch: int | None = None
        self.txn: Transaction | None = None
        self.fatal: KafkaError | None = None
        self.deliveries: list[tuple[DeliveryCallback, KafkaError | None, Message]] = []

    def init_transactions(self, timeout: float = -1) -> None:
        with self.broker.lock:
            self._check("init_transactions")
            if self.transactional_id is None:
                raise kafka_error(KafkaError._NOT_CONFIGURED, "no transactional.id", fatal=False)
            self.broker.fence(self.transactional_id)  # the previous holder of the id
            self.epoch = self.broker.epochs[self.transactional_id]

    def begin_transaction(self) -> None:
        with self.broker.lock:
            self._check("begin_transaction")
            tid = self.transactional_id
            if tid is None or self.epoch is None or self.txn is not None:
                raise kafka_error(KafkaError._STATE, "Operation not valid in this state")
            self.txn = Transaction(tid)
            self.broker.open[tid] = self.txn

    def produce(
        self,
        topic: str,
        value: str | bytes | None = None,
        key: str | bytes | None = None,
        partition: int = -1,
        *,
        on_delivery: DeliveryCallback | None = None,
        headers: ProducedHeaders | None = None,
    ) -> None:
        with self.broker.lock:
            self._check("produce")
            if self.transactional_id is not None and self.txn is None:
                raise kafka_error(KafkaError._STATE, "Unable to produce message: no transaction")
            k = key.encode() if isinstance(key, str) else key
            v = value.encode() if isinstance(value, str) else value
            h = tuple((n, x.encode() if isinstance(x, str) else x or b"") for n, x in headers or ())
            size = len(k or b"") + len(v or b"") + sum(len(n) + len(x) for n, x in h)
            if size > self.max_message_bytes:
                raise kafka_error(KafkaError.MSG_SIZE_TOO_LARGE, "Message size too large")
            t = self.broker.topics.get(topic)
            if t is not None and partition >= len(t.partitions):
                raise kafka_error(KafkaError._UNKNOWN_PARTITION, f"{topic} [{partition}]")
            refused = self._refusal(topic, size)
            if t is None or refused is not None:  # the broker answers later: the txn must abort
                refused = refused or KafkaError(
                    KafkaError._UNKNOWN_TOPIC, topic, txn_requires_abort=True
                )
                if self.txn is not None:
                    self.txn.failure = refused
                if on_delivery is not None:
                    message = Message(topic=topic, key=k, value=v, error=refused)
                    self.deliveries.append((on_delivery, refused, message))
                return
            number = partition if partition >= 0 else self.broker.next_partition(t, k)
            entry = Entry(k, v, h, now_ms(), self.txn)
            offset = self.broker.append(topic, number, entry)
            if self.txn is not None:
                self.txn.partitions.add((topic, number))
            if on_delivery is not None:
                message = entry.message(topic, number, offset)
                self.deliveries.append((on_delivery, None, message))

    def poll(self, timeout: float = -1) -> int:
        with self.broker.lock:
            deliveries, self.deliveries = self.deliveries, []
        for callback, error, message in deliveries:
            callback(error, message)
        return len(deliveries)

    def flush(self, timeout: float = -1) -> int:
        self.poll(0)
        return 0

    def send_offsets_to_transaction(
        self, positions: list[TopicPartition], group_metadata: Any, timeout: float = -1
    ) -> None:
        with self.broker.lock:
            txn = self._open("send_offsets_to_transaction")
            if not isinstance(group_metadata, GroupMetadata):
                raise kafka_error(KafkaError._INVALID_ARG, "not this broker's group metadata")
            offsets = txn.offsets.setdefault(group_metadata.group_id, {})
            offsets.update({(tp.topic, tp.partition): tp.offset for tp in positions})

    def commit_transaction(self, timeout: float = -1) -> None:
        self.flush()
        with self.broker.lock:
            txn = self._open("commit_transaction")
            self._end(txn, "committed")

    def abort_transaction(self, timeout: float = -1) -> None:
        with self.broker.lock:
            self._check("abort_transaction")
            if self.txn is None:
                raise kafka_error(KafkaError._STATE, "Operation not valid in state Ready")
            self._end(self.txn, "aborted")
        self.poll(0)

    # -- the state a librdkafka transactional producer keeps ---------------------------------
    def _check(self, call: str) -> None:
        if self.fatal is not None:
            raise KafkaException(self.fatal)
        if (
            call != "init_transactions"
            and self.epoch is not None
            and self.transactional_id is not None
            and self.broker.epochs.get(self.transactional_id) != self.epoch
        ):
            if call == "produce":
                return  # accepted locally, refused by the broker: the commit reports it
            self.fatal = KafkaError(
                KafkaError._FENCED, "transactional producer fenced by newer producer", fatal=True
            )
            raise KafkaException(self.fatal)
        error = self.broker.injected(call)
        if error is None:
            return
        if error.fatal():
            self.fatal = error
        elif error.txn_requires_abort() and self.txn is not None:
            self.txn.failure = error
        raise KafkaException(error)

    def _open(self, call: str) -> Transaction:
        self._check(call)
        if self.txn is None:
            raise kafka_error(KafkaError._STATE, "Operation not valid in state Ready")
        if self.txn.failure is not None:
            raise KafkaException(self.txn.failure)
        return self.txn

    def _end(self, txn: Transaction, outcome: Any) -> None:
        self.broker.open.pop(txn.transactional_id, None)
        self.broker.end(txn, outcome)
        self.txn = None

    def _refusal(self, topic: str, size: int) -> KafkaError | None:
        t = self.broker.topics.get(topic)
        if self.epoch is not None and self.broker.epochs.get(str(self.transactional_id)) != (
            self.epoch
        ):
            return KafkaError(KafkaError._FENCED, "fenced by newer producer", fatal=True)
        if t is not None and t.max_message_bytes is not None and size > t.max_message_bytes:
            return KafkaError(
                KafkaError.MSG_SIZE_TOO_LARGE,
                f"Broker: Message size too large for {topic}: current transaction must be aborted",
                txn_requires_abort=True,
            )
        return None
