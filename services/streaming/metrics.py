"""The processing loop's own metrics, and the helper every service serves its metrics with.

Metrics live in a registry passed in, never a global one, so tests and several loops in one
process do not collide.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaException
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)

FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
"""Seconds, resolving milliseconds: decision and commit latencies."""

SLOW_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
"""Seconds up to an hour: speed-to-lead, time to first touch, restores."""


@dataclass(frozen=True)
class RuntimeMetrics:
    records: Counter
    transactions: Counter
    aborts: Counter
    commit_seconds: Histogram
    batch_records: Histogram
    restore_seconds: Histogram
    restored_records: Counter
    consumer_lag: Gauge
    dead_letters: Counter
    assigned_partitions: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> RuntimeMetrics:
        return cls(
            # Input records handled, by input topic.
            records=Counter(
                "leadrouter_records_processed",
                "Input records handled.",
                ["app", "topic"],
                registry=registry,
            ),
            # Kafka transactions committed.
            transactions=Counter(
                "leadrouter_transactions_committed",
                "Transactions committed.",
                ["app"],
                registry=registry,
            ),
            # Kafka transactions aborted, by the error that caused it.
            aborts=Counter(
                "leadrouter_transactions_aborted",
                "Transactions aborted.",
                ["app", "reason"],
                registry=registry,
            ),
            # Time from commit start (state flush, offsets) to the broker's commit ack.
            commit_seconds=Histogram(
                "leadrouter_transaction_commit_seconds",
                "Transaction commit latency.",
                ["app"],
                buckets=FAST_BUCKETS,
                registry=registry,
            ),
            # Input records per committed transaction.
            batch_records=Histogram(
                "leadrouter_transaction_records",
                "Records per transaction.",
                ["app"],
                buckets=(1, 10, 100, 500, 1000, 5000),
                registry=registry,
            ),
            # Time to restore a state store's partitions on assignment.
            restore_seconds=Histogram(
                "leadrouter_state_restore_seconds",
                "State restore duration.",
                ["app", "store"],
                buckets=SLOW_BUCKETS,
                registry=registry,
            ),
            # State records read while restoring.
            restored_records=Counter(
                "leadrouter_state_restored_records",
                "State records read in restores.",
                ["app", "store"],
                registry=registry,
            ),
            # High watermark minus committed position, per input partition.
            consumer_lag=Gauge(
                "leadrouter_consumer_lag",
                "Records behind the end of the input.",
                ["app", "topic", "partition"],
                registry=registry,
            ),
            # Records sent to leads.dead-letter, by reason.
            dead_letters=Counter(
                "leadrouter_dead_letters",
                "Records dead-lettered.",
                ["app", "reason"],
                registry=registry,
            ),
            # Input partitions this instance owns now.
            assigned_partitions=Gauge(
                "leadrouter_assigned_partitions",
                "Input partitions owned.",
                ["app"],
                registry=registry,
            ),
        )


def serve_metrics(registry: CollectorRegistry, port: int, addr: str = "0.0.0.0") -> None:
    """Serve `registry` on http://addr:port/metrics from a daemon thread."""
    start_http_server(port, addr=addr, registry=registry)


def report_lag(consumer: Consumer, gauge: Gauge, app: str) -> None:
    """Set `gauge` to high watermark minus position for each partition `consumer` owns."""
    try:
        for tp in consumer.position(consumer.assignment()):
            _, high = consumer.get_watermark_offsets(tp, cached=True)
            lag = max(0, high - tp.offset) if tp.offset >= 0 and high >= 0 else 0
            gauge.labels(app=app, topic=tp.topic, partition=str(tp.partition)).set(lag)
    except KafkaException as exc:
        log.debug("lag report skipped: %s", exc)
