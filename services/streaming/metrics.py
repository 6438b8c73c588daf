"""The processing loop's own metrics, and the helper every service serves its metrics with.

Metrics live in a registry passed in, never a global one, so tests and several loops in one
process do not collide.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import ThreadingHTTPServer

from confluent_kafka import KafkaException
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, MetricsHandler

from services.streaming.errors import FatalError
from services.streaming.kafka_clients import ConsumerClient

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
    inputs_paused: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> RuntimeMetrics:
        return cls(
            # Input records handled, by input topic; counted when their transaction commits.
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
            # 1 while a fused loop holds its first stage's input back for its later stages
            # (downstream_first.py): that input's lag then grows by design.
            inputs_paused=Gauge(
                "leadrouter_inputs_paused",
                "1 while the first stage's inputs are paused for the later stages.",
                ["app"],
                registry=registry,
            ),
        )


@dataclass(frozen=True, slots=True)
class Health:
    """What a process says of itself: `live` (worth keeping) and `ready` (doing its work)."""

    live: bool
    ready: bool
    detail: str


HealthCheck = Callable[[], Health]


def serve_metrics(
    registry: CollectorRegistry, port: int, addr: str, health: HealthCheck | None = None
) -> ThreadingHTTPServer:
    """Serve /metrics, and /healthz and /readyz from `health`, on `addr`:`port` (services pass
    `MetricsSettings().host`), on a daemon thread; FatalError if that address cannot be bound.

    /healthz and /readyz answer 200 or 503 with a one-line JSON reason; without a health check
    they answer 200 whenever the process serves at all. Returns the server, for `shutdown()`.
    """
    metrics_handler = MetricsHandler.factory(registry)

    class Handler(metrics_handler):  # type: ignore[misc, valid-type]
        def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
            path = self.path.split("?", 1)[0]
            if path not in ("/healthz", "/readyz"):
                super().do_GET()
                return
            report = health() if health is not None else Health(True, True, "serving")
            ok = report.live if path == "/healthz" else report.live and report.ready
            body = json.dumps({"ok": ok, "detail": report.detail}).encode()
            self.send_response(200 if ok else 503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # probes every few seconds would drown the service's own log

    try:
        server = ThreadingHTTPServer((addr, port), Handler)
    except OSError as exc:  # a port in use or a host not of this machine: say which
        raise FatalError(f"cannot serve metrics on {addr}:{port}: {exc}") from exc
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server


def combined(checks: Iterable[HealthCheck]) -> HealthCheck:
    """Live and ready only when every check is; the detail of each that is not."""
    checks = list(checks)

    def check() -> Health:
        reports = [c() for c in checks]
        failing = [r.detail for r in reports if not (r.live and r.ready)]
        return Health(
            all(r.live for r in reports),
            all(r.ready for r in reports),
            "; ".join(failing) or "all loops ready",
        )

    return check


def report_lag(consumer: ConsumerClient, gauge: Gauge, app: str) -> None:
    """Set `gauge` to high watermark minus position for each partition `consumer` owns."""
    try:
        for tp in consumer.position(consumer.assignment()):
            _, high = consumer.get_watermark_offsets(tp, cached=True)
            lag = max(0, high - tp.offset) if tp.offset >= 0 and high >= 0 else 0
            gauge.labels(app=app, topic=tp.topic, partition=str(tp.partition)).set(lag)
    except KafkaException as exc:
        log.debug("lag report skipped: %s", exc)
