"""Records in, deliveries out: events become pending deliveries; ticks send and record them.

    handle   an assignment, escalation or console action (`admin.audit`) -> plan (who,
             which points) -> pending deliveries in `notifier.deliveries`, in the transaction
             that moves the input offset
    tick     per owned partition: take the sender's answers into the state (sent, retry at a
             backoff, or dead with a dead letter), then offer the due pending deliveries to
             the sender; now and then purge finished entries past retention

A delivery is only ever marked sent after its provider confirmed it, in a transaction: after a
crash, whatever was not committed as sent is pending in the restored state and is sent again;
whatever was committed as sent is never sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from services.leads.events import AdminAudit, Assignment, DeadLetter, Escalation, Outcome
from services.leads.routing_config import RoutingConfig
from services.notifier.deliveries import Delivery, RetryPolicy, Status, answered, settled
from services.notifier.delivery_store import DeliveryStore, encode
from services.notifier.messages import (
    EventPayload,
    assignment_payload,
    audit_payload,
    escalation_payload,
)
from services.notifier.metrics import NotifierMetrics, dead_reason
from services.notifier.plan import plan
from services.notifier.sender import Sender
from services.streaming.codec import AvroCodec
from services.streaming.dead_letters import dead_letter_codec
from services.streaming.errors import InvalidRecord, TransientError
from services.streaming.records import InputRecord, OutputRecord

log = logging.getLogger(__name__)

SERVICE = "leadrouter-notifier"


@dataclass(frozen=True)
class NotifierTopics:
    assignments: str
    escalations: str
    dead_letter: str
    audit: str | None = None
    """`admin.audit`, when it exists co-partitioned with the others (else not read)."""


@dataclass
class NotifierHandler:
    topics: NotifierTopics
    store: DeliveryStore
    sender: Sender
    config: Callable[[], RoutingConfig | None]
    metrics: NotifierMetrics
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    retention_ms: int = 7 * 86_400_000
    sweep_interval_ms: int = 600_000
    """How often finished entries past retention are looked for: a scan of the partition."""
    _assignments: AvroCodec[Assignment] = field(default_factory=lambda: AvroCodec(Assignment))
    _escalations: AvroCodec[Escalation] = field(default_factory=lambda: AvroCodec(Escalation))
    _audits: AvroCodec[AdminAudit] = field(default_factory=lambda: AvroCodec(AdminAudit))
    _last_sweep: dict[int, int] = field(default_factory=dict)

    def handle(self, record: InputRecord) -> list[OutputRecord]:
        payload = self._payload(record)
        if payload is None:
            return []
        config = self.config()
        if config is None:
            raise TransientError("no routing config published yet: nobody to notify is known")
        for delivery in plan(payload, config):
            if self.store.get(record.partition, delivery.notification_id) is None:
                self.store.put(record.partition, delivery.notification_id, delivery)
        return []

    def _payload(self, record: InputRecord) -> EventPayload | None:
        if record.value is None:
            raise InvalidRecord("empty_value", "value: an event record has no body")
        if record.topic == self.topics.assignments:
            assignment = self._assignments.decode(record.value)
            if assignment.outcome is Outcome.RELEASED:
                return None  # capacity freed: nobody needs telling
            return assignment_payload(assignment)
        if record.topic == self.topics.escalations:
            return escalation_payload(self._escalations.decode(record.value))
        if record.topic == self.topics.audit:
            return audit_payload(self._audits.decode(record.value))
        raise InvalidRecord("unexpected_topic", f"topic: the notifier does not read {record.topic}")

    def tick(
        self, partition: int, now_ms: int, behind: frozenset[str] = frozenset()
    ) -> list[OutputRecord]:
        outputs = self._record_answers(partition, now_ms)
        for delivery in self.store.pending(partition):
            if delivery.next_at_ms <= now_ms:
                self.sender.submit(partition, delivery)
        if now_ms - self._last_sweep.get(partition, 0) >= self.sweep_interval_ms:
            self._last_sweep[partition] = now_ms
            for key in self.store.finished_before(partition, now_ms - self.retention_ms):
                self.store.delete(partition, key)
        self.metrics.pending.set(self.store.pending_count())
        for channel, depth in self.sender.queued().items():
            self.metrics.queued.labels(channel=channel).set(depth)
        return outputs

    def _record_answers(self, partition: int, now_ms: int) -> list[OutputRecord]:
        outputs = []
        for attempt in self.sender.answers(partition):
            if partition not in self.store.partitions:
                continue  # revoked: the new owner sends it again
            current = self.store.get(partition, attempt.delivery.notification_id)
            if current is None or current.status is not Status.PENDING:
                continue
            after = answered(current, attempt.answer, now_ms, self.policy)
            self.metrics.recorded(after, attempt.answer)
            if after.status is Status.DEAD:
                outputs.append(self._dead_letter(after, dead_reason(attempt.answer), now_ms))
            kept = after if after.status is Status.PENDING else settled(after)
            self.store.put(partition, after.notification_id, kept)
        return outputs

    def _dead_letter(self, delivery: Delivery, reason: str, now_ms: int) -> OutputRecord:
        log.warning(
            "notification %s to %s by %s dead: %s",
            delivery.notification_id,
            delivery.recipient,
            delivery.channel,
            delivery.last_answer,
        )
        letter = DeadLetter(
            service=SERVICE,
            reason=f"notification_{reason}",
            detail=f"after {delivery.attempts} attempt(s): {delivery.last_answer}",
            original_key=delivery.notification_id.encode(),
            original_value=encode(delivery),
            failed_at_ms=now_ms,
        )
        headers = (
            ("notification_id", delivery.notification_id.encode()),
            ("channel", delivery.channel.encode()),
            ("event_type", delivery.event_type.value.encode()),
            ("error", f"notification_{reason}".encode()),
        )
        value = dead_letter_codec().encode(letter)
        return OutputRecord(self.topics.dead_letter, delivery.lead_id.encode(), value, headers)
