"""Part 4: ingest webhooks/s per channel, each answered only after the broker's ack."""

from __future__ import annotations

import asyncio
from collections import Counter

from bench.broker import delete_prefixed_topics, fresh_settings
from bench.context import Run
from bench.http_load import closed_loop
from bench.ingest_server import CHANNELS, Ingest, channel_requests, ingest_service
from bench.latency import percentiles
from bench.report import Figure
from services.streaming.settings import KafkaSettings

ACCEPTED = {"form": 202, "chat": 202, "email": 202, "sms": 200}
WORKERS = (1, 2)
"""INGEST_HTTP_WORKERS values measured: the default, and one more process beside it."""


def run_ingest(run: Run) -> None:
    settings = fresh_settings(run.bootstrap)
    try:
        measure_ingest(run, settings)
    finally:
        delete_prefixed_topics(settings)


def measure_ingest(run: Run, settings: KafkaSettings) -> list[Figure]:
    """Every channel with one HTTP process (the default), then again with two (SO_REUSEPORT)."""
    figures = []
    for workers in WORKERS:
        name = "ingest-rate" if workers == 1 else f"ingest-rate-{workers}-workers"
        with ingest_service(run, settings, name, workers=workers) as ingest:
            figures += measure_channels(run, ingest, workers)
    return figures


def measure_channels(run: Run, ingest: Ingest, workers: int) -> list[Figure]:
    per_channel, concurrency = run.sizes.ingest_per_channel, run.sizes.ingest_concurrency
    report = run.report
    shown = "" if workers == 1 else f", {workers} HTTP workers"
    figures = []
    warm = channel_requests(ingest, "form", min(200, per_channel), seed=9999)
    asyncio.run(closed_loop(ingest.host, ingest.port, warm, concurrency))
    for number, channel in enumerate(CHANNELS):
        requests = channel_requests(ingest, channel, per_channel, seed=number + 100 * workers)
        elapsed, exchanges = asyncio.run(
            closed_loop(ingest.host, ingest.port, requests, concurrency)
        )
        statuses = Counter(e.status for e in exchanges)
        accepted = statuses.get(ACCEPTED[channel], 0)
        if accepted != len(requests):
            report.notes.append(f"ingest {channel}{shown}: answers {dict(statuses)}")
        latencies = [(e.answered_s - e.intended_s) * 1000 for e in exchanges]
        figures.append(
            report.add(
                Figure(
                    part="ingest",
                    name=f"ingest {channel} webhooks{shown}",
                    value=accepted / elapsed,
                    unit="requests/s",
                    timed=(
                        f"{len(requests):,} distinct {channel} posts (signed where the "
                        f"channel has a secret) over {concurrency} keep-alive connections "
                        f"to {workers} HTTP server process{'es' if workers > 1 else ''}, "
                        f"each answered {ACCEPTED[channel]} only after the broker acked the "
                        "lead; from the first request sent to the last answer read"
                    ),
                    count=accepted,
                    details={
                        **{f"{k}_ms": v for k, v in percentiles(latencies).items()},
                        "seconds": round(elapsed, 3),
                    },
                )
            )
        )
    return figures
