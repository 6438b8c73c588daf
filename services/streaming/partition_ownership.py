"""Which input partitions a loop owns, and what happens to its state when the group moves them.

These are the consumer's rebalance callbacks, served inside the loop's own poll:

- assigned: every state store forgets partitions it held that were someone else's in between,
  then restores the new ones from its compacted topic, before any of their records is handled;
  timers, and a fused loop's pacing, learn where each input starts reading (see progress.py).
- revoked: the open transaction is finished first (`finish`), so the next owner starts from
  committed work.
- lost (the session expired; another instance may own the partitions already): the open
  transaction is abandoned without committing (`abandon`), and the stores forget every
  partition, since another instance may have moved them on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from confluent_kafka import TopicPartition

from services.streaming.kafka_clients import CONFLUENT, ConsumerClient, KafkaClients
from services.streaming.metrics import RuntimeMetrics
from services.streaming.processor import Processor
from services.streaming.progress import InputProgress
from services.streaming.records import Clock
from services.streaming.settings import KafkaSettings

log = logging.getLogger(__name__)


class PartitionOwnership:
    def __init__(
        self,
        processor: Processor,
        kafka: KafkaSettings,
        metrics: RuntimeMetrics,
        progress: InputProgress,
        clock: Clock,
        *,
        finish: Callable[[], None],
        abandon: Callable[[], None],
        clients: KafkaClients = CONFLUENT,
    ) -> None:
        self.p = processor
        self.kafka = kafka
        self.clients = clients
        """Where restores get their reader consumers."""
        self.metrics = metrics
        self.progress = progress
        self.clock = clock
        self.finish = finish
        """Commit the open transaction, if any (a failure is the loop's to recover from)."""
        self.abandon = abandon
        """Abort the open transaction, if any, and roll its state back; no rewind."""
        self.owned: set[int] = set()

    def subscribe(self, consumer: ConsumerClient) -> None:
        consumer.subscribe(
            list(self.p.inputs),
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )

    def _on_assign(self, consumer: ConsumerClient, partitions: list[TopicPartition]) -> None:
        numbers = {tp.partition for tp in partitions}
        app = self.p.app_id
        for store in self.p.stores:
            store.drop(store.partitions - numbers)  # owned by someone else in between
            started = self.clock.monotonic()
            count = store.restore(self.kafka, numbers, self.clients)
            self.metrics.restore_seconds.labels(app=app, store=store.topic).observe(
                self.clock.monotonic() - started
            )
            self.metrics.restored_records.labels(app=app, store=store.topic).inc(count)
        if self.p.tick is not None or self.p.downstream_inputs:
            self.progress.assigned(partitions)
        self.owned = numbers
        self.metrics.assigned_partitions.labels(app=app).set(len(numbers))
        log.info("assigned partitions %s of %s", sorted(numbers), list(self.p.inputs))

    def _on_revoke(self, consumer: ConsumerClient, partitions: list[TopicPartition]) -> None:
        self.finish()  # finish our work before another instance takes the partitions
        self.owned = set()

    def _on_lost(self, consumer: ConsumerClient, partitions: list[TopicPartition]) -> None:
        self.abandon()
        for store in self.p.stores:
            store.drop(store.partitions)  # another instance may have moved them on
        self.owned = set()
