"""An in-memory twin of a Kafka broker, for testing the loop's fault paths.

`MemoryBroker` is a `KafkaClients` (kafka_clients.py): hand it to `TransactionalLoop`,
`StateStore.restore` or `GlobalTable` in place of confluent-kafka, and they run against topics
held in this process. Its clients (memory_clients.py) raise what librdkafka raises, as
`KafkaException(KafkaError(code, ..., fatal=, retriable=, txn_requires_abort=))`, checked
against the real broker by tests/integration/streaming/test_client_contract.py.

What it models:
- topics with partitions, an optional per-topic `max.message.bytes`, and Java's key
  partitioner (murmur2, as `partitioner=murmur2_random` gives librdkafka); a record without a
  key or partition goes to partitions in turn;
- transactional producers: records of an open transaction are in the log at once but hidden from
  read_committed consumers, which read only up to the last stable offset (the first offset of
  the oldest open transaction); commit and abort each write a marker that takes an offset, so
  "last offset + 1" is not the end; offsets sent to a transaction reach the group only when
  it commits; a producer that calls `init_transactions` with a transactional.id fences the
  previous one (its open transaction is aborted, its next transactional call fails fatally);
- consumer groups: committed offsets, the eager range assignment, and rebalance callbacks
  served in the consumer's own poll/consume (revoke everything, then assign once every member
  has rejoined, so no partition has two owners at once); `lose()` ends a member's session;
  `pause` and `resume` (a paused partition stays paused through a rebalance, as in librdkafka);
- watermarks (a query answers the last stable offset to a read_committed consumer, the cached
  value is the high watermark of its last fetch, as librdkafka does), positions and seek;
- injected failures: `fail_next(call, error)` makes the next call of that name on any client
  raise; an abortable error leaves the transaction unable to commit until it is aborted, a
  fatal one leaves the producer unusable; a `BufferError` is raised as it is given.

Two things the real broker does that the twin follows: `committed()` fails (times out) while an
open transaction holds offsets for the partition, and a produced record reaches the log at once
(librdkafka purges records still in its queue on abort, so there they may take no offset).

What it does not model: replication, retention and compaction (nothing is ever deleted, the low
watermark is 0), transaction and session timeouts (use `lose()` and `fence()`), static
membership (a closed member leaves at once), incremental rebalancing, idempotence sequence
numbers (after a broker-side refusal and abort, the real producer's next commit on that
partition failed with OUT_OF_ORDER_SEQUENCE_NUMBER; the twin's succeeds), auto-commit,
timestamps other than the time of writing, a prefetch (a paused partition just is not read),
and the latency of a real fetch: `consume(n, timeout)` returns as soon as anything is readable.
"""

from __future__ import annotations

import itertools

from confluent_kafka import KafkaError

from services.streaming.kafka_clients import ConsumerClient, ProducerClient
from services.streaming.memory_cluster import Cluster, Group, Topic
from services.streaming.memory_consumer import MemoryConsumer
from services.streaming.memory_producer import MemoryProducer
from services.streaming.settings import ClientConfig


class MemoryBroker(Cluster):
    """A `KafkaClients` whose clients share this in-memory cluster, with a test's knobs."""

    def __init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1)

    # -- KafkaClients ------------------------------------------------------------------------
    def consumer(self, config: ClientConfig) -> ConsumerClient:
        return MemoryConsumer(self, config, next(self._ids))

    def producer(self, config: ClientConfig) -> ProducerClient:
        return MemoryProducer(self, config)

    # -- what a test arranges ----------------------------------------------------------------
    def create_topic(
        self, name: str, partitions: int = 1, max_message_bytes: int | None = None
    ) -> None:
        with self.lock:
            self.topics[name] = Topic(
                [[] for _ in range(partitions)],
                max_message_bytes,
                [{} for _ in range(partitions)],
            )

    def fail_next(self, call: str, error: KafkaError | BufferError, times: int = 1) -> None:
        """The next `times` calls named `call` (a client method) raise `error` first."""
        with self.lock:
            self._faults.setdefault(call, []).extend([error] * times)

    def rebalance(self, group_id: str) -> None:
        """Make every member of the group revoke and be assigned again."""
        with self.lock:
            self.bump(self.groups.setdefault(group_id, Group()))

    def lose(self, consumer: ConsumerClient) -> None:
        """End the member's session: its partitions go to the others, and its next poll
        serves `on_lost` before it rejoins."""
        if not isinstance(consumer, MemoryConsumer):
            raise TypeError("lose() takes a consumer of this broker")
        with self.lock:
            consumer.lost = True
            self.leave(consumer)
