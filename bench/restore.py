"""Part 5: cold-start restore of the router's rotation state and the SLA watcher's timers.

The records are the real state records with the services' own serdes, at representative sizes:
per pool a `RotationState` of 8 members plus an `OpenLead` record for each of its 10 open leads
(the router keeps them apart so the pool's record stays small), and per pending timer an
`SlaTimer` that carries its lead. The figure is the store's `restore` over every partition,
exactly what the loop runs on assignment (`StateStore` for the pools, the watcher's
`TimerStore` for the timers, which keeps each record as bytes and indexes it by its leading
fields); the same read with decoding skipped is reported beside it, so fetch and decode costs
are apart.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from bench.broker import delete_prefixed_topics, fresh_settings
from bench.context import Run
from bench.kafka_io import produce_all
from bench.leads import make_lead
from bench.report import Figure, Report
from services.leads.topics import Topic
from services.router.rotation import MemberStanding, OpenLead, RotationRecord, RotationState
from services.router.rotation_serde import rotation_serde
from services.sla_watcher.timer_state import SlaTimer, TimerStatus
from services.sla_watcher.timer_store import TimerStore, timer_serde
from services.streaming.records import Serde
from services.streaming.settings import KafkaSettings
from services.streaming.state import StateStore, read_to_end

MEMBERS_PER_POOL = 8
OPEN_LEADS_PER_POOL = 10
T0_MS = 1_780_000_000_000


@dataclass(frozen=True, slots=True)
class StateRecord:
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


def pool_records(index: int) -> Iterator[tuple[str, RotationRecord]]:
    """A pool's `RotationState` and its `OpenLead` records, keyed as the router keys them."""
    pool_id = f"pool-{index:05d}"
    reps = [f"rep-{(index * 3 + m) % 400:03d}" for m in range(MEMBERS_PER_POOL)]
    held = [reps[n % len(reps)] for n in range(OPEN_LEADS_PER_POOL)]
    members = tuple(
        MemberStanding(
            rep_id=rep,
            credit=(m * 7 % 5) - 2,
            assigned=100 + m,
            last_assigned_seq=900 + m,
            day="2026-11-23",
            day_count=m,
            open=held.count(rep),
        )
        for m, rep in enumerate(reps)
    )
    yield pool_id, RotationState(pool_id=pool_id, decisions=1000, members=members)
    for n, rep in enumerate(held):
        lead = OpenLead(pool_id=pool_id, lead_id=f"lead-{index:06d}-{n:04d}", rep_id=rep)
        yield lead.key, lead


def sla_timer(index: int, rng: random.Random) -> SlaTimer:
    lead = make_lead(index, rng, T0_MS + index)
    return SlaTimer(
        lead_id=lead.lead_id,
        status=TimerStatus.RUNNING,
        assignment_id=f"asg-{index:09d}",
        pool_id=f"pool-{index % 10_000:05d}",
        policy_id="inbound-15m",
        rep_id=f"rep-{index % 400:03d}",
        manager_id="mgr-007",
        fallback_pool_id="pool-fallback",
        attempt=1,
        received_at_ms=lead.received_at_ms,
        assigned_at_ms=lead.received_at_ms + 20,
        notify_due_ms=(lead.received_at_ms + 450_000, lead.received_at_ms + 600_000),
        deadline_ms=lead.received_at_ms + 900_000,
        max_reassignments=2,
        updated_at_ms=lead.received_at_ms + 20,
        lead=lead,
    )


def _encoded(items: Iterable[tuple[str, Any]], serde: Serde[Any]) -> Iterator[StateRecord]:
    for key, model in items:
        yield StateRecord(key.encode(), serde.encode(model))


def run_restore(run: Run) -> None:
    settings = fresh_settings(run.bootstrap)
    try:
        measure_restore(settings, pools=run.sizes.pools, timers=run.sizes.timers, report=run.report)
    finally:
        delete_prefixed_topics(settings)


def measure_restore(
    settings: KafkaSettings, *, pools: int, timers: int, report: Report, partitions: int = 4
) -> list[Figure]:
    rng = random.Random(11)
    rotation_items = (item for i in range(pools) for item in pool_records(i))
    timer_items = ((t.lead_id, t) for t in (sla_timer(i, rng) for i in range(timers)))
    figures = []
    pools_what = f"pools' rotation state ({pools:,} pools, {OPEN_LEADS_PER_POOL} open leads each)"
    for topic, serde, make_store, items, label, what in (
        (
            Topic.ROTATION_STATE,
            rotation_serde(),
            lambda name: StateStore(name, rotation_serde()),
            rotation_items,
            "pools' rotation state",
            pools_what,
        ),
        (
            Topic.SLA_TIMERS,
            timer_serde(),
            TimerStore,
            timer_items,
            "pending SLA timers",
            "pending SLA timers",
        ),
    ):
        name = settings.topic(topic)
        records = list(_encoded(items, serde))
        produce_all(settings, name, records)
        size = round(sum(len(r.value) for r in records) / max(1, len(records)))
        figures += _time_restore(
            settings,
            make_store(name),
            count=len(records),
            size=size,
            label=label,
            what=what,
            report=report,
            partitions=partitions,
        )
    return figures


def _time_restore(
    settings: KafkaSettings,
    store: StateStore[Any],
    *,
    count: int,
    size: int,
    label: str,
    what: str,
    report: Report,
    partitions: int,
) -> list[Figure]:
    numbers, topic = list(range(partitions)), store.topic
    raw_s = _timed(lambda: read_to_end(settings, topic, numbers, lambda p, k, v: None))
    restore_s = _timed(lambda: store.restore(settings, numbers))
    restored = len(store)
    short_topic = topic.split(".", 1)[1]
    base = (
        f"{count:,} records of {what} ({size} B mean) on {partitions} partitions of {short_topic}"
    )
    return [
        report.add(
            Figure(
                part="restore",
                name=f"restore {label}",
                value=restore_s,
                unit="s",
                timed=(
                    f"{type(store).__name__}.restore of {base}: read to the high watermark and "
                    "decode (TimerStore: index by the leading fields, decode when touched)"
                ),
                count=restored,
                details={
                    "records_per_s": round(count / max(restore_s, 1e-9)),
                    "fetch_share_%": round(100 * raw_s / max(restore_s, 1e-9), 1),
                },
            )
        ),
        report.add(
            Figure(
                part="restore",
                name=f"read {label} without decoding",
                value=raw_s,
                unit="s",
                timed=f"read_to_end of {base} with decoding skipped: the fetch cost alone",
                count=count,
            )
        ),
    ]


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started
