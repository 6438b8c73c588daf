"""The notifier's metrics, served on NOTIFIER_METRICS_PORT (default 9105).

Labels are bounded: channel (five adapters), event type (an enum), reason (two values); never
a lead, person or notification id.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from services.notifier.deliveries import Answer, Delivery, Failed, Status
from services.notifier.sender import Attempt

SEND_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
"""Seconds: a local SMTP relay answers in milliseconds, a provider's API in a few hundred."""


@dataclass(frozen=True)
class NotifierMetrics:
    sent: Counter
    failed: Counter
    retried: Counter
    dead_lettered: Counter
    send_seconds: Histogram
    pending: Gauge
    queued: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> NotifierMetrics:
        return cls(
            # Deliveries the provider confirmed (each counted once, when the state records it).
            sent=Counter(
                "leadrouter_notifications_sent",
                "Notifications confirmed sent.",
                ["channel", "event_type"],
                registry=registry,
            ),
            # Attempts the provider refused or that could not reach it.
            failed=Counter(
                "leadrouter_notification_attempts_failed",
                "Send attempts that failed.",
                ["channel", "event_type"],
                registry=registry,
            ),
            # Failed attempts scheduled again after a backoff.
            retried=Counter(
                "leadrouter_notifications_retried",
                "Failed attempts scheduled for a retry.",
                ["channel", "event_type"],
                registry=registry,
            ),
            # Deliveries given up: `rejected` (a permanent answer) or `exhausted` (N attempts).
            dead_lettered=Counter(
                "leadrouter_notifications_dead_lettered",
                "Notifications sent to notifier.dead-letter.",
                ["channel", "event_type", "reason"],
                registry=registry,
            ),
            # One attempt, from the worker taking it to the provider's answer.
            send_seconds=Histogram(
                "leadrouter_notification_send_seconds",
                "Send attempt latency.",
                ["channel"],
                buckets=SEND_BUCKETS,
                registry=registry,
            ),
            # Pending deliveries in the state this instance owns (due or waiting).
            pending=Gauge(
                "leadrouter_notifications_pending",
                "Notifications not yet confirmed or dead.",
                registry=registry,
            ),
            # Attempts waiting for a channel's worker: a provider that is slow or down.
            queued=Gauge(
                "leadrouter_notification_queue_depth",
                "Attempts queued per channel.",
                ["channel"],
                registry=registry,
            ),
        )

    def attempt(self, attempt: Attempt) -> None:
        """On the worker's thread: latency and failures as they happen."""
        channel = attempt.delivery.channel
        self.send_seconds.labels(channel=channel).observe(attempt.seconds)
        if isinstance(attempt.answer, Failed):
            event = attempt.delivery.event_type.value
            self.failed.labels(channel=channel, event_type=event).inc()

    def recorded(self, after: Delivery, answer: Answer) -> None:
        """When the state takes an answer in: the delivery's new standing."""
        labels = {"channel": after.channel, "event_type": after.event_type.value}
        if after.status is Status.SENT:
            self.sent.labels(**labels).inc()
        elif after.status is Status.DEAD:
            self.dead_lettered.labels(**labels, reason=dead_reason(answer)).inc()
        else:
            self.retried.labels(**labels).inc()


def dead_reason(answer: Answer) -> str:
    """`exhausted` when retrying could have helped but attempts ran out, else `rejected`."""
    return "exhausted" if isinstance(answer, Failed) and answer.retryable else "rejected"
