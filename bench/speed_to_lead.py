"""Part 3: end-to-end speed-to-lead at fixed rates, and the highest rate that is sustained.

Leads are POSTed to the real ingest service (form posts, answered 202 after the broker's ack) on
an open-loop schedule, and the real router assigns them. A read_committed consumer in this
process notes when each lead's assignment becomes visible. Latency is that moment minus the
moment the request was due to be sent, both on this process's monotonic clock.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition

from bench.broker import delete_prefixed_topics, fresh_settings
from bench.context import Run
from bench.http_load import Exchange, open_loop
from bench.ingest_server import Ingest, channel_requests, ingest_service
from bench.latency import hop_latencies, percentiles
from bench.report import Figure, thin
from bench.router_service import publish_bench_config, router_service
from services.leads.topics import Topic
from services.streaming.arrivals import arrivals
from services.streaming.settings import KafkaSettings

SEARCH_RATES = (1_500, 2_000, 3_000, 4_000)
"""Tried in order above the fixed rates until one is not sustained."""
CONNECTIONS = 64
SETTLE_S = 15.0
"""How long after the last request its assignment may take before it counts as missing."""
SUSTAINED_P99_MS = 1_000.0


LEG_TOPICS = (Topic.INBOUND, Topic.ROUTING_REQUESTS, Topic.ASSIGNMENTS)
"""The topics a lead crosses, in order; each record names its lead in `ce_subject`."""


class AssignmentClock:
    """A thread that notes when each lead's assignment becomes visible (time.monotonic), and,
    for the per-hop figures, when each of its records on the way was created and read.

    One read_committed consumer reads all three topics. It waits for one record and then takes
    only what it already holds: `consume(n, timeout)` would sit out its whole timeout unless n
    records came, which would add up to that timeout to every reading."""

    def __init__(self, settings: KafkaSettings) -> None:
        self.topics = {settings.topic(t): t for t in LEG_TOPICS}
        self.consumer = Consumer(settings.reader(**{"fetch.wait.max.ms": 5}))
        assigned = []
        for topic in self.topics:
            partitions = self.consumer.list_topics(topic, timeout=10).topics[topic].partitions
            assigned += [TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions]
        self.consumer.assign(assigned)
        self.visible: dict[str, float] = {}
        self.legs: dict[Topic, dict[str, tuple[float, float]]] = {t: {} for t in LEG_TOPICS}
        """Per topic and lead id: (CreateTime, read time), both time.time() seconds."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="assignment-clock", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            messages = arrivals(self.consumer, 1001, 0.02)
            if not messages:
                continue
            read_s, read_mono = time.time(), time.monotonic()
            for message in messages:
                if message.error() is None:
                    self._note(message, read_s, read_mono)

    def _note(self, message: Message, read_s: float, read_mono: float) -> None:
        lead = _subject(message)
        topic = self.topics.get(message.topic() or "")
        if lead is None or topic is None:
            return
        self.legs[topic].setdefault(lead, (message.timestamp()[1] / 1000, read_s))
        if topic is Topic.ASSIGNMENTS:
            self.visible.setdefault(lead, read_mono)

    def journey(self, lead: str, due_s: float) -> list[float] | None:
        """The lead's stage times (see `bench.latency.STAGES`) and its assignment's reading,
        on the wall clock; None while any record of it is unseen."""
        legs = [self.legs[t].get(lead) for t in LEG_TOPICS]
        if any(leg is None for leg in legs):
            return None
        return [due_s, *(moment for leg in legs if leg is not None for moment in leg)]

    def wait_for(self, lead_ids: list[str], timeout_s: float) -> int:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            missing = sum(1 for lead in lead_ids if lead not in self.visible)
            if not missing:
                return 0
            time.sleep(0.05)
        return sum(1 for lead in lead_ids if lead not in self.visible)

    @contextmanager
    def running(self) -> Iterator[AssignmentClock]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join(5)
            self.consumer.close()


def _subject(message: Message) -> str | None:
    headers = message.headers()
    pairs = headers.items() if isinstance(headers, dict) else (headers or ())
    for name, value in pairs:
        if name == "ce_subject" and isinstance(value, bytes):
            return value.decode()
    return None


def run_speed_to_lead(run: Run) -> None:
    settings = fresh_settings(run.bootstrap)
    try:
        publish_bench_config(settings)
        with (
            router_service(run, settings, label="speed_to_lead"),
            ingest_service(run, settings, "ingest-e2e") as ingest,
            AssignmentClock(settings).running() as clock,
        ):
            _send(ingest, clock, rate=50, seconds=2.0, seed=500)  # warm-up: partitions, config
            sustained = 0
            for rate in run.sizes.rates:
                if _measure(run, ingest, clock, rate):
                    sustained = rate
            search = SEARCH_RATES if run.sizes.search_rates else ()
            for rate in (r for r in search if r > max(run.sizes.rates)):
                if not _measure(run, ingest, clock, rate):
                    break
                sustained = rate
            tried = ", ".join(str(r) for r in (*run.sizes.rates, *search))
            run.report.add(
                Figure(
                    part="speed_to_lead",
                    name="highest sustained rate",
                    value=float(sustained),
                    unit="leads/s",
                    timed=(
                        f"the highest offered rate (tried: {tried}, stopping at the first "
                        "failure above the fixed ones) at which every post got 202, every "
                        f"assignment became visible and p99 stayed under {SUSTAINED_P99_MS:.0f} ms"
                    ),
                )
            )
    finally:
        delete_prefixed_topics(settings)


def _send(
    ingest: Ingest, clock: AssignmentClock, *, rate: int, seconds: float, seed: int
) -> tuple[list[Exchange], int]:
    requests = channel_requests(ingest, "form", max(1, round(rate * seconds)), seed=seed)
    exchanges = asyncio.run(open_loop(ingest.host, ingest.port, requests, rate, CONNECTIONS))
    accepted = [e.lead_id for e in exchanges if e.status == 202 and e.lead_id]
    missing = clock.wait_for(accepted, SETTLE_S)
    return exchanges, missing


def _measure(
    run: Run,
    ingest: Ingest,
    clock: AssignmentClock,
    rate: int,
    *,
    part: str = "speed_to_lead",
) -> bool:
    seconds = run.sizes.rate_seconds
    exchanges, missing = _send(ingest, clock, rate=rate, seconds=seconds, seed=rate)
    accepted = [e for e in exchanges if e.status == 202 and e.lead_id]
    latencies = [
        (clock.visible[e.lead_id] - e.intended_s) * 1000
        for e in accepted
        if e.lead_id in clock.visible
    ]
    if not latencies:
        run.report.notes.append(f"speed to lead at {rate}/s: no assignment seen")
        return False
    marks = percentiles(latencies)
    refused = len(exchanges) - len(accepted)
    sustained = not refused and not missing and marks["p99"] <= SUSTAINED_P99_MS
    run.report.samples_ms[f"{rate} leads/s"] = thin(latencies)
    run.report.add(
        Figure(
            part=part,
            name=f"speed to lead p99 at {rate}/s",
            value=marks["p99"],
            unit="ms",
            timed=(
                f"{len(exchanges):,} form posts to ingest at {rate}/s for {seconds:.0f} s "
                f"(open loop, {CONNECTIONS} connections): from when each request was due to be "
                "sent to when its assignment was visible to a read_committed consumer"
            ),
            count=len(latencies),
            details={**marks, "refused": float(refused), "missing": float(missing)},
        )
    )
    _add_hops(run, clock, accepted, rate, part)
    return sustained


def _add_hops(
    run: Run, clock: AssignmentClock, accepted: list[Exchange], rate: int, part: str
) -> None:
    """One figure per hop: where the end-to-end time of this rate's leads went."""
    wall_minus_mono = time.time() - time.monotonic()
    journeys = [
        journey
        for e in accepted
        if e.lead_id is not None
        and (journey := clock.journey(e.lead_id, e.intended_s + wall_minus_mono)) is not None
    ]
    if not journeys:
        return
    for index, (name, samples) in enumerate(hop_latencies(journeys).items(), start=1):
        marks = percentiles(samples)
        run.report.add(
            Figure(
                part=part,
                name=f"hop {index} p50 at {rate}/s",
                value=marks["p50"],
                unit="ms",
                timed=(
                    f"{name}, per lead at {rate}/s (wall clock; CreateTime has ms resolution; "
                    "readable = read by this benchmark's read_committed consumer)"
                ),
                count=len(samples),
                details=marks,
            )
        )
