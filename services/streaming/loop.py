"""The exactly-once processing loop shared by router and sla_watcher.

    consume (read_committed) -> handle (a function passed in) -> produce outputs
    -> flush state writes -> send_offsets_to_transaction -> commit

Outputs, state records and input offsets commit in one Kafka transaction, so after any crash the
topics show each input handled exactly once. A transaction commits as soon as the input is
drained (a poll comes back empty), and at the latest after `commit_interval_ms` or
`max_batch_records`, checked after every record so a slow handler over a backlog never outlives
the transaction timeout. Offsets only move inside the transaction: nothing is committed
outside it.

No record wedges a partition or stops the service: a handler that fails on a record (a
PermanentError, or any bug) gets it dead-lettered with its bytes, its state writes undone, and
the batch goes on; a record whose outputs the broker refuses is found and dead-lettered by
isolation.py. A failed transaction is aborted, state rolls back to the last commit and the
consumer rewinds to the first offset it took and did not commit, in every partition; retries
back off, and the loop reports not ready until it commits again. Transactional calls go
through kafka_calls.py, so a stop request is heard within a second even while the broker is
away.

Each instance slot's clients, and how input is taken from the consumer, are in slot_clients.py;
what happens to state when partitions move is in partition_ownership.py.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence

from confluent_kafka import KafkaException, Message, TopicPartition
from prometheus_client import CollectorRegistry

from services.streaming.batch import Batch, input_record, uncommitted
from services.streaming.dead_letters import DeadLetterSink
from services.streaming.downstream_first import DownstreamFirst
from services.streaming.errors import FatalError, LeadrouterError, PermanentError, TransientError
from services.streaming.heap import Tenure
from services.streaming.isolation import Isolation, Rung, refusal_error
from services.streaming.kafka_calls import (
    ProducerLost,
    StopRequested,
    TransactionCalls,
    is_record_level,
    kafka_error,
    unusable,
)
from services.streaming.kafka_clients import CONFLUENT, KafkaClients
from services.streaming.metrics import Health, RuntimeMetrics, report_lag
from services.streaming.partition_ownership import PartitionOwnership
from services.streaming.processor import Handler, LoopSettings, Processor, Ticker
from services.streaming.produce import produce_all
from services.streaming.progress import InputProgress
from services.streaming.records import Clock, InputRecord, OutputRecord, SystemClock
from services.streaming.settings import KafkaSettings
from services.streaming.shutdown import serve
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
        self.clients = clients
        self.producer = slot_producer(kafka, processor.app_id, self.s, clients)
        self.consumer = slot_consumer(
            kafka, processor.app_id, self.s, clients, paced=bool(processor.downstream_inputs)
        )
        self.dead_letters = DeadLetterSink(
            processor.dead_letter_topic,
            processor.app_id,
            self.s.max_consecutive_failures,
            self.metrics.dead_letters,
        )
        if processor.bind_dead_letters is not None:
            processor.bind_dead_letters(self.dead_letters)
        self.progress = InputProgress(self.consumer, processor.inputs)
        self.downstream_first = DownstreamFirst.of(
            processor,
            self.consumer,
            lambda: clients.consumer(kafka.reader()),
            self.progress,
            self.clock,
            max_batch_records=self.s.max_batch_records,
            shown=self.metrics.inputs_paused.labels(app=processor.app_id).set,
        )
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
        self.calls = TransactionCalls(
            self.clock,
            lambda: self._stopping_since,
            deadline_s=self.s.call_deadline_s,
            stop_grace_s=self.s.stop_grace_s,
        )
        self.isolation = Isolation()
        self.tenure = Tenure(monotonic=self.clock.monotonic)
        self.running = True
        self._batch: Batch | None = None
        self._taken: Sequence[Message] = ()
        self._next = 0
        """`_taken[_next:]` were taken from the consumer and not handled yet."""
        self._failing_since: float | None = None
        self._failure = ""
        self._aborts_in_row = 0
        self._stopping_since: float | None = None
        self._renewals: list[float] = []
        """When the producer was last renewed after it was lost (see `_renew_producer`)."""
        self._started = False
        self._last_step: float | None = None
        self._last_tick = 0.0
        self._last_lag = 0.0

    # -- lifecycle -------------------------------------------------------------------------
    def run(self) -> None:
        """Run until `stop()`; commit what is open; close.

        A stop while the broker cannot be reached gives up the open transaction (nothing is
        lost: it is read again) once `stop_grace_s` has passed and the call under way returns;
        librdkafka may hold a call for its 30 s request timeout, which `serve()` does not wait
        out."""
        try:
            self.calls.call("init_transactions", self.producer.init_transactions)
            for table in self.p.tables:
                table.load()
            self.ownership.subscribe(self.consumer)
            self._started = True
            while self.running:
                self.step()
            self._finish_open()
        except StopRequested as exc:
            log.warning("%s", exc)
            self._forget_open()  # nothing of it was committed: the next owner reads it again
        except BaseException:
            # Whatever ended the loop left the open transaction in doubt: closing the consumer
            # below must not commit it (its revoke callback finishes what is open).
            self._forget_open()
            raise
        finally:
            self.consumer.close()  # leaves the group (static members only after their timeout)
            self.downstream_first.close()
            for table in self.p.tables:
                table.close()

    def stop(self, *_: object) -> None:
        self.running = False
        if self._stopping_since is None:
            self._stopping_since = self.clock.monotonic()  # the clock TransactionCalls reads

    def health(self) -> Health:
        """Live while the loop turns (a restore counts as turning, up to `stall_after_s`);
        ready once it has joined its group and finished a turn with its partitions restored,
        and for as long as its transactions commit."""
        name = self.p.app_id
        if not self._started or self._last_step is None:
            return Health(True, False, f"{name}: starting (transactions, tables, group)")
        now = self.clock.monotonic()
        stalled_s = now - self._last_step
        if not self.running:
            return Health(True, False, f"{name}: draining")
        if stalled_s > self.s.stall_after_s:
            return Health(False, False, f"{name}: no loop turn for {stalled_s:.0f} s")
        failing = self._failing_since or self.calls.stuck_since(now, self.s.slow_call_s)
        if failing is not None:
            reason = self._failure or "the broker does not answer"
            return Health(True, False, f"{name}: cannot commit for {now - failing:.0f} s: {reason}")
        return Health(True, True, f"{name}: {len(self.ownership.owned)} partitions")

    def serve(self) -> None:
        """`run` as a service's main job: SIGTERM/SIGINT stop it, and the process exits within
        `stop_grace_s` plus 3 s whatever the broker does (see shutdown.py)."""
        serve(self.run, self.stop, self.p.app_id, self.s.stop_grace_s + 3)

    # -- one turn of the loop --------------------------------------------------------------
    def step(self) -> None:
        try:
            self._turn()
        except ProducerLost as exc:
            self._renew_producer(exc, uncommitted(self._batch, self._taken[self._next :]))
        self._maybe_report_lag()
        self._last_step = self.clock.monotonic()

    def _turn(self) -> None:
        try:
            if self._batch is None:
                self._refresh_tables()
            self.downstream_first.adjust(self.ownership.owned)
            self._taken = take_input(self.consumer, self.s, batch_open=self._batch is not None)
            for index, message in enumerate(self._taken):
                self._next = index
                if self.isolation.covers(message):
                    self._handle_alone(message)
                    continue
                self._handle_message(message)
                # Checked per record: a slow handler over a backlog must not stretch one
                # transaction past transaction.timeout.ms, or the broker fences the loop.
                if self._batch is not None and self._batch_due(self._batch):
                    self._commit(self._batch)
                    self._refresh_tables()  # a backlog must not hold a config change back
            drained = not self._taken  # nothing more was waiting: don't sit out the interval
            self._taken = ()
            self._maybe_tick()
            if self._batch is not None and (drained or self._batch_due(self._batch)):
                self._commit(self._batch)
            if self._batch is None:  # a whole turn with nothing left uncommitted
                self._failing_since, self._failure = None, ""
        except (KafkaException, TransientError) as exc:
            self._recover(exc)

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
        self._produce(self._outputs_of(record))
        batch.add(record)

    def _outputs_of(self, record: InputRecord) -> list[OutputRecord]:
        """The handler's outputs, or a dead letter with the record's state writes undone."""
        for store in self.p.stores:
            store.savepoint()
        try:
            outputs = list(self.p.handle(record))
        except PermanentError as exc:
            error = exc
        except (LeadrouterError, KafkaException):
            raise  # transient or fatal: not the record's fault
        except Exception as exc:  # a handler bug must cost one record, not the service
            log.exception("handler failed on %s[%d]@%d", record.topic, record.partition,
                          record.offset)  # fmt: skip
            error = PermanentError("handler_failed", f"{type(exc).__name__}: {exc}")
        else:
            self.dead_letters.handled()
            return outputs
        for store in self.p.stores:
            store.undo_to_savepoint()
        return [self.dead_letters.letter(record, error, self.clock.now_ms())]

    def _handle_alone(self, message: Message) -> None:
        """One record in a transaction of its own, on the rung isolation.py gives it."""
        if message.error() is not None:
            return
        if self._batch is not None:
            self._commit(self._batch)  # the records before it must not share its fate
        record = input_record(message)
        rung, refusal = self.isolation.rung(record)
        batch = self._begin(alone=record)
        if rung is Rung.OUTPUTS:
            outputs = self._outputs_of(record)
        else:
            error = refusal_error(rung, refusal)
            keep_bytes = rung is Rung.LETTER
            outputs = [self.dead_letters.letter(record, error, self.clock.now_ms(),
                                                keep_bytes=keep_bytes)]  # fmt: skip
        self._produce(outputs)
        batch.add(record)
        self._commit(batch)
        self.isolation.written(record)

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
    def _begin(self, alone: InputRecord | None = None) -> Batch:
        if self._batch is None:
            self.producer.begin_transaction()
            self._batch = Batch(started=self.clock.monotonic(), alone=alone)
        return self._batch

    def _produce(self, outputs: Iterable[OutputRecord]) -> None:
        produce_all(self.producer, outputs)

    def _commit(self, batch: Batch) -> None:
        started = self.clock.monotonic()
        for store in self.p.stores:
            self._produce(store.flush())
        if batch.next_offsets:
            offsets, group = batch.offsets(), self.consumer.consumer_group_metadata()
            self.calls.call(
                "send_offsets_to_transaction",
                lambda timeout: self.producer.send_offsets_to_transaction(offsets, group, timeout),
            )
        self.calls.call("commit_transaction", self.producer.commit_transaction)
        for store in self.p.stores:
            store.commit()
        for topic, count in batch.per_topic.items():
            self.metrics.records.labels(app=self.p.app_id, topic=topic).inc(count)
        self.metrics.transactions.labels(app=self.p.app_id).inc()
        self.metrics.commit_seconds.labels(app=self.p.app_id).observe(
            self.clock.monotonic() - started
        )
        self.metrics.batch_records.labels(app=self.p.app_id).observe(batch.count)
        self._batch = None
        self._failing_since, self._failure, self._aborts_in_row = None, "", 0
        self.tenure.settle()  # the state kept so far, out of the collector's way

    def _recover(self, exc: KafkaException | TransientError) -> None:
        """Abort, roll state back, rewind every partition to its first uncommitted offset,
        and back off; a refused record is isolated (see isolation.py)."""
        error = kafka_error(exc) if isinstance(exc, KafkaException) else None
        dead = None if error is None else unusable(error, "the transaction")
        if dead is not None:
            raise dead from exc
        reason = error.name() if error is not None else type(exc).__name__
        log.warning("aborting the transaction (%s): %s", reason, exc)
        self._failed(reason, exc)
        batch, spans = self._batch, uncommitted(self._batch, self._taken[self._next :])
        if batch is not None:
            try:
                self._abort()
            except ProducerLost as lost:
                self._renew_producer(lost, spans)
                return
        if error is not None and is_record_level(error):
            if batch is not None and batch.alone is not None:
                self.isolation.refused(batch.alone, error)
            else:
                self.isolation.isolate({p: span.stop - 1 for p, span in spans.items()})
        self._rewind(spans)
        self._aborts_in_row += 1
        self._back_off()

    def _rewind(self, spans: dict[tuple[str, int], range]) -> None:
        """Seek every owned partition back to the first offset taken and not committed."""
        for (topic, partition), span in spans.items():
            if partition not in self.ownership.owned:
                continue
            try:
                self.consumer.seek(TopicPartition(topic, partition, span.start))
            except KafkaException as exc:  # revoked meanwhile: its next owner starts there
                log.info("no rewind of %s[%d]: %s", topic, partition, exc)
        self._taken = ()

    def _renew_producer(self, exc: ProducerLost, spans: dict[tuple[str, int], range]) -> None:
        """A fenced or failed producer is dead: drop its transaction, rewind, and go on with a
        new one.

        Most often the broker aborted a transaction that outlived `transaction.timeout.ms`
        (the broker was away), or came back disagreeing with the producer on its state. A
        second process in the same instance slot fences too: after `max_producer_renewals`
        renewals within a minute the loop stops, so two such processes cannot fence each other
        back and forth for ever (the consumer group's static membership fences the older one's
        consumer as well)."""
        now = time.monotonic()
        self._renewals = [at for at in self._renewals if now - at < 60.0] + [now]
        if len(self._renewals) > self.s.max_producer_renewals:
            raise FatalError(
                f"producer fenced or failed {len(self._renewals)} times within a minute ({exc}):"
                f" does another process run instance slot {self.s.instance} of {self.p.app_id}?"
            ) from exc
        log.warning("producer lost (%s): a new one takes over from the last commit", exc)
        cause = exc.__cause__
        reason = kafka_error(cause).name() if isinstance(cause, KafkaException) else "_FENCED"
        self._failed(reason, exc)
        self._forget_open()
        self._rewind(spans)
        self.producer = slot_producer(self.kafka, self.p.app_id, self.s, self.clients)
        self.calls.call("init_transactions", self.producer.init_transactions)

    def _failed(self, reason: str, exc: BaseException) -> None:
        """Count a transaction given up, and be not ready until one commits again."""
        self.metrics.aborts.labels(app=self.p.app_id, reason=reason).inc()
        self._failing_since = self._failing_since or self.clock.monotonic()
        self._failure = f"{reason}: {exc}"

    def _abort(self) -> None:
        try:
            self.calls.call("abort_transaction", self.producer.abort_transaction)
        except KafkaException as exc:
            raise FatalError(f"abort failed, stopping: {kafka_error(exc)}") from exc
        finally:
            self._forget_open()

    def _forget_open(self) -> None:
        for store in self.p.stores:
            store.rollback()
        self._batch = None

    def _back_off(self) -> None:
        """Wait before retrying: 50 ms after one abort, doubling to `retry_backoff_max_s`."""
        delay = min(self.s.retry_backoff_max_s, 0.05 * 2 ** (self._aborts_in_row - 1))
        until = time.monotonic() + delay
        while self.running and time.monotonic() < until:
            time.sleep(min(0.1, max(0.0, until - time.monotonic())))

    def _batch_due(self, batch: Batch) -> bool:
        elapsed_ms = (self.clock.monotonic() - batch.started) * 1000
        return batch.count >= self.s.max_batch_records or elapsed_ms >= self.s.commit_interval_ms

    # -- the open transaction when partitions move (see partition_ownership.py) --------------
    def _finish_open(self) -> None:
        if self._batch is not None:
            try:
                self._commit(self._batch)
            except (KafkaException, TransientError) as exc:
                self._recover(exc)

    def _abandon_open(self) -> None:
        if self._batch is not None:
            self._abort()

    def _maybe_report_lag(self) -> None:
        now = self.clock.monotonic()
        if now - self._last_lag >= 5.0:
            self._last_lag = now
            report_lag(self.consumer, self.metrics.consumer_lag, self.p.app_id)
