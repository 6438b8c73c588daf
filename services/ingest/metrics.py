"""Ingest's metrics, in a registry passed in. Labels: door (http, smtp), channel (the lead
channel), reason (a closed set: `rejection.REASONS` plus the shell's own below). The raw-topic
door is counted by the processing loop's own metrics (records processed, dead letters by
reason), which count each record once per committed transaction."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

from services.streaming.metrics import FAST_BUCKETS

SHELL_REASONS = (
    "broker_unavailable",
    "bad_signature",
    "headers_too_large",
    "unsupported_media_type",
    "unknown_form",
    "unknown_recipient",
    "bad_recipient",
    "too_many_recipients",
)


@dataclass(frozen=True)
class IngestMetrics:
    received: Counter
    accepted: Counter
    rejected: Counter
    unavailable: Counter
    errors: Counter
    request_seconds: Histogram
    ack_seconds: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry) -> IngestMetrics:
        return cls(
            # Requests, messages and raw records that arrived, before any check.
            received=Counter(
                "leadrouter_ingest_received",
                "Leads received.",
                ["door", "channel"],
                registry=registry,
            ),
            # Leads the broker acknowledged on leads.inbound (answered 202/200/250).
            accepted=Counter(
                "leadrouter_ingest_accepted",
                "Leads accepted.",
                ["door", "channel"],
                registry=registry,
            ),
            # Input refused as bad (4xx, SMTP 5xx, dead letter), by reason.
            rejected=Counter(
                "leadrouter_ingest_rejected",
                "Leads rejected.",
                ["door", "channel", "reason"],
                registry=registry,
            ),
            # Good input answered 503 / SMTP 451 because the broker did not acknowledge in time.
            unavailable=Counter(
                "leadrouter_ingest_unavailable",
                "Leads refused for retry: broker unavailable.",
                ["door", "channel"],
                registry=registry,
            ),
            # Requests that failed on our side (HTTP 500, SMTP 451 with a logged traceback): a
            # bug to look at, never bad input, which is counted in `rejected`.
            errors=Counter(
                "leadrouter_ingest_errors",
                "Requests that failed with an unexpected error.",
                ["door", "channel"],
                registry=registry,
            ),
            # Time from request start to the answer, by door and channel.
            request_seconds=Histogram(
                "leadrouter_ingest_request_seconds",
                "Request latency.",
                ["door", "channel"],
                buckets=FAST_BUCKETS,
                registry=registry,
            ),
            # Time from produce to the broker's acknowledgement (acks=all).
            ack_seconds=Histogram(
                "leadrouter_ingest_broker_ack_seconds",
                "Broker acknowledgement latency.",
                buckets=FAST_BUCKETS,
                registry=registry,
            ),
        )
