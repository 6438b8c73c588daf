"""Part `sla`: the SLA watcher on N assignments (timers started) and N timers due at once.

Both run the real `python -m services.sla_watcher` (exactly-once, what an operator runs) on 4
partitions with the bench routing config. *Started*: N `Assignment` records of leads the corpus
holds, decided now, pre-produced to `leads.assignments`; timed from the first `sla.timers`
record's CreateTime until a timer for every lead is visible to a read_committed consumer.
*Due*: N running timers whose deadline passed an hour ago, pre-produced to `sla.timers` as the
watcher writes them; after its restore the watcher fires one reassign step each, timed from the
first escalation's CreateTime until all N escalations are visible. Each is divided by the raw
passthrough of the same run, when that part ran.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache

from bench.broker import delete_prefixed_topics, fresh_settings
from bench.context import Run
from bench.ingest_server import free_port
from bench.kafka_io import CommittedWatcher, produce_all
from bench.leads import EncodedLead
from bench.report import Figure
from bench.router_service import publish_bench_config
from services.leads.events import Assignment, DecisionTrace, Outcome, RequestKind
from services.leads.topics import Topic
from services.sla_watcher.timer_state import SlaTimer, TimerStatus
from services.streaming.codec import PRESENT, AvroCodec
from services.streaming.settings import KafkaSettings

PARTITIONS = 4
POOLS = {  # pools of bench/routing.bench.yaml, each with its members and manager
    "dach": (("r01", "r02", "r03", "r04", "r05"), "maria"),
    "europe": (("r06", "r07", "r08", "r09", "r10", "r11"), "maria"),
    "americas": (("r12", "r13", "r14", "r15", "r16", "r17"), "tom"),
    "apac": (("r18", "r19", "r20", "r21"), "tom"),
    "global": (("r22", "r23", "r24", "r06", "r12"), "tom"),
}
HEADER_SIZE = 10
"""Single-object encoding: `C3 01` and the 8-byte fingerprint before the Avro body."""


@dataclass(frozen=True, slots=True)
class Keyed:
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


def run_sla(run: Run) -> None:
    leads = run.corpus.leads(run.sizes.timers)
    measure(run, "started", [assignment_record(n, lead) for n, lead in enumerate(leads)])
    measure(run, "due", [due_timer_record(n, lead) for n, lead in enumerate(leads)])


def _owner(index: int) -> tuple[str, str, str]:
    pool_id = list(POOLS)[index % len(POOLS)]
    reps, manager = POOLS[pool_id]
    return pool_id, reps[index % len(reps)], manager


def assignment_record(index: int, lead: EncodedLead, decided_at_ms: int | None = None) -> Keyed:
    """An assignment as router/assign writes it, carrying the corpus lead's own bytes."""
    pool_id, rep_id, _ = _owner(index)
    decided = decided_at_ms if decided_at_ms is not None else time.time_ns() // 1_000_000
    assignment = Assignment(
        assignment_id=f"{lead.lead_id}#a1",
        lead_id=lead.lead_id,
        kind=RequestKind.ASSIGN,
        outcome=Outcome.ASSIGNED,
        pool_id=pool_id,
        requested_pool_id=pool_id,
        rep_id=rep_id,
        reason="weighted",
        attempt=1,
        received_at_ms=decided - 20,
        decided_at_ms=decided,
        trace=DecisionTrace(
            config_version=1, config_hash="bench", strategy="weighted",
            fairness_policy="strict", chosen_rep=rep_id, input_topic="routing.requests",
            input_partition=index % PARTITIONS, input_offset=index,
        ),
    )  # fmt: skip
    # The lead's bytes go in as they are, as router/assign passes them on (no decode here).
    raw = {"lead": PRESENT + lead.value[HEADER_SIZE:]}
    return Keyed(lead.lead_id.encode(), _assignments().encode(assignment, raw=raw))


def due_timer_record(index: int, lead: EncodedLead) -> Keyed:
    """A running timer whose deadline passed an hour ago, with reassignments left: one
    reassign escalation and one reassign request (carrying the lead) when it fires."""
    pool_id, rep_id, manager = _owner(index)
    now_ms = time.time_ns() // 1_000_000
    timer = SlaTimer(
        status=TimerStatus.RUNNING,
        updated_at_ms=now_ms - 2 * 3_600_000,
        lead_id=lead.lead_id,
        assignment_id=f"{lead.lead_id}#a1",
        pool_id=pool_id,
        policy_id="inbound",
        rep_id=rep_id,
        manager_id=manager,
        attempt=1,
        received_at_ms=now_ms - 2 * 3_600_000 - 20,
        assigned_at_ms=now_ms - 2 * 3_600_000,
        deadline_ms=now_ms - 3_600_000,
        max_reassignments=2,
    )
    raw = {"lead": PRESENT + lead.value[HEADER_SIZE:]}
    return Keyed(lead.lead_id.encode(), _timers().encode(timer, raw=raw))


def measure(run: Run, kind: str, records: list[Keyed]) -> Figure:
    settings = fresh_settings(run.bootstrap, partitions=PARTITIONS)
    source, sink = {
        "started": (Topic.ASSIGNMENTS, Topic.SLA_TIMERS),
        "due": (Topic.SLA_TIMERS, Topic.ESCALATIONS),
    }[kind]
    try:
        publish_bench_config(settings)
        produce_all(settings, settings.topic(source), records)
        watcher = CommittedWatcher(settings, settings.topic(sink), distinct=True)
        try:
            with run.subject(f"sla-watcher-{kind}", "services.sla_watcher", ["--instance", "0"],
                             _env(settings)) as process:  # fmt: skip
                seen = watcher.wait_for(
                    len(records),
                    timeout_s=60 + len(records) / 500,
                    alive=lambda: process.poll() is None,
                )
        finally:
            watcher.close()
    finally:
        delete_prefixed_topics(settings)
    elapsed = seen.last_visible_s - seen.first_created_s
    return _figure(run, kind, len(records), seen.distinct_keys, elapsed)


def _env(settings: KafkaSettings) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": settings.topic_prefix,
        "SLA_METRICS_PORT": str(free_port()),
    }


NAMES = {
    "started": ("SLA timers started", "timers/s", "pre-produced assignments"),
    "due": ("SLA escalations fired", "escalations/s", "running timers past their deadline"),
}


def _figure(run: Run, kind: str, count: int, done: int, seconds: float) -> Figure:
    name, unit, what = NAMES[kind]
    elapsed = max(seconds, 1e-9)
    ceiling = run.report.value("passthrough", "raw transactional passthrough")
    sink = "sla.timers record" if kind == "started" else "escalation"
    if done < count:
        run.report.notes.append(f"{name}: only {done} of {count} seen in time")
    if ceiling:
        run.report.add(
            Figure(
                part="ratio",
                name=f"{name} ÷ raw passthrough",
                value=100 * done / elapsed / ceiling,
                unit="%",
                timed="the two throughputs above, measured in this run on the same broker",
            )
        )
    return run.report.add(
        Figure(
            part="sla",
            name=name,
            value=done / elapsed,
            unit=unit,
            timed=(
                f"{count:,} {what} through one `python -m services.sla_watcher` "
                f"({PARTITIONS} partitions, exactly-once): from the first {sink}'s CreateTime "
                f"until every lead's {sink} is visible to a read_committed consumer"
            ),
            count=done,
            details={
                "seconds": round(elapsed, 3),
                "share_done_%": round(100 * done / count, 1),
            },
        )
    )


@cache
def _assignments() -> AvroCodec[Assignment]:
    return AvroCodec(Assignment)


@cache
def _timers() -> AvroCodec[SlaTimer]:
    return AvroCodec(SlaTimer)
