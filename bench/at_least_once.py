"""An at-least-once runner for a `Processor`: the cost of exactly-once made visible.

It runs the same processor (handler, state stores, global tables) in the same batches as
`TransactionalLoop` (100 ms or 2,000 records) but with no transaction: outputs and coalesced
state records go out on an idempotent acks=all producer, the batch is flushed until every
record is acknowledged, and only then are the input offsets committed. A crash between the two
replays the batch, so outputs may repeat; nothing is lost. Only for the benchmark: leadrouter
itself always runs exactly-once.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from confluent_kafka import Consumer, Message, Producer, TopicPartition

from services.streaming.dead_letters import dead_letter_record
from services.streaming.downstream_first import PACED_FETCH, DownstreamFirst
from services.streaming.errors import FatalError, PermanentError
from services.streaming.loop import LoopSettings, Processor
from services.streaming.produce import produce_all
from services.streaming.progress import InputProgress
from services.streaming.records import InputRecord, OutputRecord, SystemClock
from services.streaming.settings import KafkaSettings


class AtLeastOnceLoop:
    def __init__(self, processor: Processor, kafka: KafkaSettings, instance: int = 0) -> None:
        self.p = processor
        self.kafka = kafka
        self.s = LoopSettings(instance=instance)
        self.producer = Producer(kafka.producer())
        # A dynamic member (no group.instance.id): it leaves the group on close, so the next
        # benchmark's router does not wait out this one's session in a rebalance.
        paced: dict[str, str | int] = PACED_FETCH if processor.downstream_inputs else {}
        self.consumer = Consumer(
            kafka.consumer(processor.app_id, **{"partition.assignment.strategy": "range", **paced})
        )
        # Paced as TransactionalLoop paces a fused processor, so the two compare like for like.
        self.progress = InputProgress(self.consumer, processor.inputs)
        self.downstream_first = DownstreamFirst.of(
            processor,
            self.consumer,
            lambda: Consumer(kafka.reader()),
            self.progress,
            SystemClock(),
            max_batch_records=self.s.max_batch_records,
        )
        self._owned: set[int] = set()
        self.running = True
        self._positions: dict[tuple[str, int], int] = {}
        self._started: float | None = None
        self._count = 0

    def stop(self, *_: object) -> None:
        self.running = False

    def run(self) -> None:
        for table in self.p.tables:
            table.load()
        self.consumer.subscribe(list(self.p.inputs), on_assign=self._on_assign)
        try:
            while self.running:
                if self._started is None:
                    for table in self.p.tables:
                        table.refresh()
                self.downstream_first.adjust(self._owned)
                for message in self.consumer.consume(self.s.max_batch_records, self._wait_s()):
                    self._handle(message)
                if self._started is not None and self._due(self._started):
                    self._commit()
            if self._started is not None:
                self._commit()
        finally:
            self.consumer.close()
            self.downstream_first.close()
            for table in self.p.tables:
                table.close()

    def _handle(self, message: Message) -> None:
        error = message.error()
        if error is not None:
            if error.fatal():
                raise FatalError(f"consumer failed: {error}")
            return
        record = InputRecord(
            topic=message.topic() or "",
            partition=message.partition() or 0,
            offset=message.offset() or 0,
            key=message.key(),
            value=message.value(),
            timestamp_ms=message.timestamp()[1],
            headers=_headers(message),
        )
        if self._started is None:
            self._started = time.monotonic()
        try:
            outputs: Iterable[OutputRecord] = self.p.handle(record)
        except PermanentError as exc:
            if self.p.dead_letter_topic is None:
                raise FatalError(f"no dead-letter topic and a record failed: {exc}") from exc
            outputs = [
                dead_letter_record(
                    self.p.dead_letter_topic, self.p.app_id, record, exc, int(time.time() * 1000)
                )
            ]
        self._produce(outputs)
        self._positions[(record.topic, record.partition)] = record.offset + 1
        self._count += 1

    def _produce(self, outputs: Iterable[OutputRecord]) -> None:
        produce_all(self.producer, outputs)

    def _commit(self) -> None:
        for store in self.p.stores:
            self._produce(store.flush())
        if self.producer.flush(60) > 0:
            raise FatalError("outputs not acknowledged within 60 s: offsets left uncommitted")
        offsets = [TopicPartition(t, p, o) for (t, p), o in self._positions.items()]
        if offsets:
            self.consumer.commit(offsets=offsets, asynchronous=False)
        for store in self.p.stores:
            store.commit()
        self._positions.clear()
        self._started, self._count = None, 0

    def _due(self, started: float) -> bool:
        elapsed_ms = (time.monotonic() - started) * 1000
        return self._count >= self.s.max_batch_records or elapsed_ms >= self.s.commit_interval_ms

    def _wait_s(self) -> float:
        if self._started is None:
            return self.s.commit_interval_ms / 1000
        elapsed_ms = (time.monotonic() - self._started) * 1000
        return max(0.0, (self.s.commit_interval_ms - elapsed_ms) / 1000)

    def _on_assign(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        numbers = {tp.partition for tp in partitions}
        for store in self.p.stores:
            store.drop(store.partitions - numbers)
            store.restore(self.kafka, numbers)
        self.progress.assigned(partitions)
        self._owned = numbers


def _headers(message: Message) -> tuple[tuple[str, bytes], ...]:
    raw = message.headers() or ()
    pairs = raw.items() if isinstance(raw, dict) else raw
    return tuple((k, v if isinstance(v, bytes) else (v or "").encode()) for k, v in pairs)
