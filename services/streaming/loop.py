"""The exactly-once processing loop shared by router and sla_watcher.

    consume (read_committed) -> handle (a function passed in) -> produce outputs
    -> flush state writes -> send_offsets_to_transaction -> commit

Outputs, state records and input offsets commit in one Kafka transaction, so after any crash the
topics show each input handled exactly once. A transaction commits as soon as the input is
drained (a poll comes back empty), and at the latest after `commit_interval_ms` or
`max_batch_records`, checked after every record so a slow handler over a backlog never outlives
the transaction timeout. Offsets only move inside the transaction: nothing is committed
outside it.

Each instance slot's clients, and how input is taken from the consumer, are in slot_clients.py;
what happens to state when partitions move is in partition_ownership.py. On abort, state rolls
back to the last commit and the consumer rewinds to the batch's first offsets.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterable

from confluent_kafka import KafkaError, KafkaException, Message
from prometheus_client import CollectorRegistry

from services.streaming.batch import Batch, input_record
from services.streaming.dead_letters import DeadLetterSink
from services.streaming.errors import FatalError, PermanentError
from services.streaming.kafka_clients import CONFLUENT, KafkaClients
from services.streaming.metrics import Health, RuntimeMetrics, report_lag
from services.streaming.partition_ownership import PartitionOwnership
from services.streaming.processor import Handler, LoopSettings, Processor, Ticker
from services.streaming.produce import produce_all
from services.streaming.progress import InputProgress
from services.streaming.records import Clock, OutputRecord, SystemClock
from services.streaming.settings import KafkaSettings
from services.streaming.slot_clients import slot_consumer, slot_producer, take_input

__all__ = ["Handler", "LoopSettings", "Processor", "Ticker", "TransactionalLoop"]

log = logging.getLogger(__name__)


class TransactionalLoop:
    def __init__(
        self,
        processor: Processor,
        kafka: KafkaSettings,
        settings: LoopSettings | None = None,
        registry: CollectorRegistry | None = None,
        clock: Clock | None = None,
        *,
        clients: KafkaClients | None = None,
    ) -> None:
        """`clients` makes the Kafka clients (confluent-kafka unless a test passes the twin)."""
        self.p = processor
        self.kafka = kafka
        self.s = settings or LoopSettings()
        self.clock = clock or SystemClock()
        self.metrics = RuntimeMetrics.create(registry or CollectorRegistry())
        clients = clients or CONFLUENT
        self.producer = slot_producer(kafka, processor.app_id, self.s, clients)
        self.consumer = slot_consumer(kafka, processor.app_id, self.s, clients)
        self.dead_letters = DeadLetterSink(
            processor.dead_letter_topic,
            processor.app_id,
            self.s.max_consecutive_failures,
            self.metrics.dead_letters,
        )
        self.progress = InputProgress(self.consumer, processor.inputs)
        self.ownership = PartitionOwnership(
            processor,
            kafka,
            self.metrics,
            self.progress,
            self.clock,
            finish=self._finish_open,
            abandon=self._abandon_open,
            clients=clients,
        )
        self.running = True
        self._batch: Batch | None = None
        self._started = False
        self._last_step: float | None = None
        self._last_tick = 0.0
        self._last_lag = 0.0

    # -- lifecycle -------------------------------------------------------------------------
    def run(self) -> None:
        """Run until `stop()` (or SIGTERM/SIGINT when installed); commit what is open; close."""
        self.producer.init_transactions(30)
        for table in self.p.tables:
            table.load()
        self.ownership.subscribe(self.consumer)
        self._started = True
        try:
            while self.running:
                self.step()
            if self._batch is not None:
                self._commit(self._batch)
        finally:
            self.consumer.close()  # leaves the group (static members only after their timeout)
            for table in self.p.tables:
                table.close()

    def stop(self, *_: object) -> None:
        self.running = False

    def health(self) -> Health:
        """Live while the loop turns (a restore counts as turning, up to `stall_after_s`);
        ready once it has joined its group and finished a turn with its partitions restored."""
        name = self.p.app_id
        if not self._started or self._last_step is None:
            return Health(True, False, f"{name}: starting (transactions, tables, group)")
        stalled_s = self.clock.monotonic() - self._last_step
        if not self.running:
            return Health(True, False, f"{name}: draining")
        if stalled_s > self.s.stall_after_s:
            return Health(False, False, f"{name}: no loop turn for {stalled_s:.0f} s")
        return Health(True, True, f"{name}: {len(self.ownership.owned)} partitions")

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    # -- one turn of the loop --------------------------------------------------------------
    def step(self) -> None:
        if self._batch is None:
            self._refresh_tables()
        messages = take_input(self.consumer, self.s, batch_open=self._batch is not None)
        try:
            for message in messages:
                self._handle_message(message)
                # Checked per record: a slow handler over a backlog must not stretch one
                # transaction past transaction.timeout.ms, or the broker fences the loop.
                if self._batch is not None and self._batch_due(self._batch):
                    self._commit(self._batch)
                    self._refresh_tables()  # a backlog must not hold a config change back
            self._maybe_tick()
            drained = not messages  # nothing more was waiting: don't sit out the interval
            if self._batch is not None and (drained or self._batch_due(self._batch)):
                self._commit(self._batch)
        except KafkaException as exc:
            self._recover(exc)
        self._maybe_report_lag()
        self._last_step = self.clock.monotonic()

    def _refresh_tables(self) -> None:
        """Only between transactions, so a batch sees one version of every table."""
        for table in self.p.tables:
            table.refresh()

    def _handle_message(self, message: Message) -> None:
        error = message.error()
        if error is not None:
            if error.fatal():
                raise FatalError(f"consumer failed: {error}")
            log.warning("consumer error: %s", error)
            return
        record = input_record(message)
        batch = self._begin()
        try:
            outputs = list(self.p.handle(record))
            self.dead_letters.handled()
        except PermanentError as exc:
            outputs = [self.dead_letters.letter(record, exc, self.clock.now_ms())]
        self._produce(outputs)
        batch.add(record)
        self.metrics.records.labels(app=self.p.app_id, topic=record.topic).inc()

    def _maybe_tick(self) -> None:
        if self.p.tick is None or not self.ownership.owned:
            return
        now = self.clock.monotonic()
        if (now - self._last_tick) * 1000 < self.s.tick_interval_ms:
            return
        self._last_tick = now
        now_ms = self.clock.now_ms()
        for partition in sorted(self.ownership.owned):
            outputs = list(self.p.tick(partition, now_ms, self.progress.behind(partition)))
            if outputs or any(store.has_pending for store in self.p.stores):
                self._begin()
                self._produce(outputs)

    # -- transactions ----------------------------------------------------------------------
    def _begin(self) -> Batch:
        if self._batch is None:
            self.producer.begin_transaction()
            self._batch = Batch(started=self.clock.monotonic())
        return self._batch

    def _produce(self, outputs: Iterable[OutputRecord]) -> None:
        produce_all(self.producer, outputs)

    def _commit(self, batch: Batch) -> None:
        started = self.clock.monotonic()
        for store in self.p.stores:
            self._produce(store.flush())
        if batch.next_offsets:
            self.producer.send_offsets_to_transaction(
                batch.offsets(), self.consumer.consumer_group_metadata(), 30
            )
        self.producer.commit_transaction(60)
        for store in self.p.stores:
            store.commit()
        self.metrics.transactions.labels(app=self.p.app_id).inc()
        self.metrics.commit_seconds.labels(app=self.p.app_id).observe(
            self.clock.monotonic() - started
        )
        self.metrics.batch_records.labels(app=self.p.app_id).observe(batch.count)
        self._batch = None

    def _recover(self, exc: KafkaException) -> None:
        error: KafkaError = exc.args[0]
        if error.fatal() or error.code() == KafkaError._FENCED:
            raise FatalError(f"fenced or fatal Kafka error, stopping: {error}") from exc
        if self._batch is None:
            raise FatalError(f"Kafka error outside a transaction: {error}") from exc
        log.warning("aborting the transaction: %s", error)
        self.metrics.aborts.labels(app=self.p.app_id, reason=error.name()).inc()
        try:
            self.producer.abort_transaction(60)
        except KafkaException as abort_exc:
            raise FatalError(f"abort failed, stopping: {abort_exc}") from abort_exc
        self._roll_back()

    def _roll_back(self) -> None:
        """Forget the aborted batch: state to the last commit, consumer to the batch's start."""
        for store in self.p.stores:
            store.rollback()
        if self._batch is not None:
            for point in self._batch.rewind_points(self.ownership.owned):
                self.consumer.seek(point)
        self._batch = None

    def _batch_due(self, batch: Batch) -> bool:
        elapsed_ms = (self.clock.monotonic() - batch.started) * 1000
        return batch.count >= self.s.max_batch_records or elapsed_ms >= self.s.commit_interval_ms

    # -- the open transaction when partitions move (see partition_ownership.py) --------------
    def _finish_open(self) -> None:
        if self._batch is not None:
            try:
                self._commit(self._batch)
            except KafkaException as exc:
                self._recover(exc)

    def _abandon_open(self) -> None:
        if self._batch is not None:
            try:
                self.producer.abort_transaction(30)
            except KafkaException as exc:
                raise FatalError(f"abort after losing partitions failed: {exc}") from exc
            for store in self.p.stores:
                store.rollback()
            self._batch = None

    def _maybe_report_lag(self) -> None:
        now = self.clock.monotonic()
        if now - self._last_lag >= 5.0:
            self._last_lag = now
            report_lag(self.consumer, self.metrics.consumer_lag, self.p.app_id)
