"""The HTTP and SMTP front doors' one way to Kafka: publish a lead, return once acknowledged.

`publish()` resolves only after the broker acknowledged the write (idempotent producer,
`acks=all`), or raises `BrokerUnavailable` when it did not within `message.timeout.ms`: the
caller answers 503 / SMTP 451 and the sender retries. A retry carries the same lead id, so a
write that landed after its caller gave up is recognisable downstream. A lead too large for
the topic raises `LeadTooLarge` before anything is produced: no retry could help it.

A daemon thread serves the producer's delivery callbacks. They only queue their results; after
each `poll()` the thread hands everything it collected to the waiting asyncio loop (the HTTP
server's or the SMTP listener's) in one call, so the loop is woken once per batch the broker
acknowledged, not once per lead.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import defaultdict, deque
from typing import Any, Protocol

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from services.ingest.inbound import inbound_record
from services.ingest.metrics import IngestMetrics
from services.leads.events import Lead
from services.leads.topics import Topic
from services.streaming.errors import TransientError
from services.streaming.settings import KafkaSettings

log = logging.getLogger(__name__)

GRACE_S = 2.0
"""Beyond message.timeout.ms: librdkafka always reports; this only guards a stalled thread."""

Outcome = asyncio.Future[KafkaError | None]
Report = tuple[asyncio.AbstractEventLoop, Outcome, KafkaError | None]


class BrokerUnavailable(TransientError):
    """The broker did not acknowledge the write in time: nothing is known to be written."""


class Publishing(Protocol):
    """What the front doors need from a publisher (tests of refusals pass an in-memory one)."""

    async def publish(self, lead: Lead) -> None: ...

    async def ready(self) -> bool: ...


class LeadPublisher:
    def __init__(
        self, kafka: KafkaSettings, timeout_ms: int, metrics: IngestMetrics, max_lead_bytes: int
    ) -> None:
        self.topic = kafka.topic(Topic.INBOUND)
        self.timeout_ms = timeout_ms
        self.max_lead_bytes = max_lead_bytes
        self.metrics = metrics
        self._config: dict[str, Any] = {
            **kafka.producer(),
            "message.timeout.ms": timeout_ms,
            # Every request waits for its lead's ack: 1 ms still batches concurrent requests,
            # without adding the default 5 ms to each answer (and to speed-to-lead).
            "linger.ms": 1,
            "client.id": f"{kafka.client_id}-ingest",
            "reconnect.backoff.max.ms": 1000,  # back in service within a second of the broker
            "error_cb": self._on_error,
        }
        self._producer = Producer(self._config)
        self._lock = threading.Lock()
        self._reports: deque[Report] = deque()
        """Delivery results not yet handed to their loops; appended by the delivery callbacks
        (on whichever thread runs `poll` or `flush`), drained by `_hand_off`."""
        self._running = True
        self._poller = threading.Thread(target=self._poll, name="ingest-delivery", daemon=True)
        self._poller.start()

    async def publish(self, lead: Lead) -> None:
        loop = asyncio.get_running_loop()
        done: Outcome = loop.create_future()
        started = time.monotonic()
        reports = self._reports

        def delivered(error: KafkaError | None, _: Message) -> None:
            reports.append((loop, done, error))

        record = inbound_record(self.topic, lead, self.max_lead_bytes)
        try:
            with self._lock:
                self._producer.produce(
                    record.topic,
                    key=record.key,
                    value=record.value,
                    headers=list(record.headers),
                    on_delivery=delivered,
                )
        except (BufferError, KafkaException) as exc:
            raise BrokerUnavailable(f"cannot queue the write: {exc}") from exc
        # A timer rather than asyncio.wait_for: the same bound at a third of the cost.
        timer = loop.call_later(self.timeout_ms / 1000 + GRACE_S, _give_up, done)
        try:
            error = await done
        finally:
            timer.cancel()
        if error is not None:
            log.warning("lead %s not acknowledged: %s", lead.lead_id, error.name())
            if error.fatal():
                self._replace_producer()
            raise BrokerUnavailable(f"write not acknowledged: {error.name()}")
        self.metrics.ack_seconds.observe(time.monotonic() - started)

    async def ready(self) -> bool:
        """True when the broker answers and leads.inbound exists."""
        return await asyncio.to_thread(self._ready)

    def close(self, timeout_s: float = 10.0) -> None:
        """Deliver what is queued (bounded), then stop the delivery thread."""
        with self._lock:
            self._producer.flush(timeout_s)
        self._hand_off()
        self._running = False
        self._poller.join(timeout=2)

    def _ready(self) -> bool:
        try:
            metadata = self._producer.list_topics(self.topic, timeout=2)
        except KafkaException:
            return False
        topic = metadata.topics.get(self.topic)
        return topic is not None and topic.error is None and bool(topic.partitions)

    def _poll(self) -> None:
        while self._running:
            self._producer.poll(0.1)
            self._hand_off()

    def _hand_off(self) -> None:
        """Settle every queued delivery result on its own loop: one wake-up per loop."""
        batches: defaultdict[asyncio.AbstractEventLoop, list[Report]] = defaultdict(list)
        while True:
            try:  # another thread (close, a producer being replaced) may drain it too
                report = self._reports.popleft()
            except IndexError:
                break
            batches[report[0]].append(report)
        for loop, batch in batches.items():
            try:
                loop.call_soon_threadsafe(_settle_all, batch)
            except RuntimeError:  # the waiting loop is closed: its callers answered long ago
                log.debug("%d delivery reports after their callers left", len(batch))

    def _on_error(self, error: KafkaError) -> None:
        """Connection churn is librdkafka's to retry; only the whole cluster gone is news."""
        if error.fatal() or error.code() == KafkaError._ALL_BROKERS_DOWN:
            log.warning("producer: %s", error.str())
        else:
            log.debug("producer: %s", error.str())

    def _replace_producer(self) -> None:
        """An idempotent producer that hit a fatal error accepts no more writes: start anew."""
        with self._lock:
            old, self._producer = self._producer, Producer(self._config)
        old.flush(0)
        self._hand_off()


def _settle_all(batch: list[Report]) -> None:
    for _, future, error in batch:
        if not future.done():
            future.set_result(error)


def _give_up(future: Outcome) -> None:
    if not future.done():
        future.set_exception(BrokerUnavailable("no delivery report in time"))
