"""Part 1: the ceiling. The same leads through a transactional passthrough, raw and on the loop,
and the router's own Kafka traffic on the loop with none of its logic (`router-io`)."""

from __future__ import annotations

from bench.broker import delete_prefixed_topics, fresh_settings, wait_for_topics
from bench.context import Run
from bench.kafka_io import CommittedWatcher, produce_all
from bench.leads import EncodedLead
from bench.passthrough_worker import RouterShape
from bench.report import Figure
from services.leads.topics import TopicSpec
from services.streaming.admin import create_topics
from services.streaming.settings import KafkaSettings

MODES = {
    "raw": "raw transactional passthrough",
    "loop": "TransactionalLoop passthrough",
    "router-io": "the router's Kafka I/O on the fused loop, no logic",
}

ROUTER_IO = (
    "; each lead read and written as the router does, as copies: 3 records read and 9 written "
    "(the request, the person's state, a link request and the assignment at full size, two "
    "links, two owner facts and a rotation-store record at 128 B) over two fused stages, the "
    "global tables' reads left out"
)


def run_passthrough(run: Run) -> None:
    settings = fresh_settings(run.bootstrap)
    try:
        for mode in MODES:
            measure_passthrough(
                run, settings, run.corpus.leads(run.sizes.passthrough_records), mode=mode
            )
    finally:
        delete_prefixed_topics(settings)


def measure_passthrough(
    run: Run,
    settings: KafkaSettings,
    leads: list[EncodedLead],
    *,
    mode: str,
    partitions: int = 4,
) -> Figure:
    """Pre-produce `leads`, start the passthrough, time until every copy is committed."""
    source, sink = (settings.topic(f"bench.passthrough-{mode}.{end}") for end in ("in", "out"))
    names = (source, sink, *(RouterShape(source, sink).topics if mode == "router-io" else ()))
    specs = [TopicSpec(name.removeprefix(settings.topic_prefix), False) for name in names]
    created = create_topics(settings, partitions=partitions, specs=specs)
    wait_for_topics(settings, {r.name for r in created})
    produce_all(settings, source, leads)
    watcher = CommittedWatcher(settings, sink)
    args = ["--bootstrap", settings.bootstrap_servers, "--source", source, "--sink", sink]
    args += ["--mode", mode, "--slot", f"{settings.topic_prefix}passthrough-{mode}"]
    try:
        with run.subject(f"passthrough-{mode}", "bench.passthrough_worker", args):
            seen = watcher.wait_for(len(leads), timeout_s=60 + len(leads) / 2000)
    finally:
        watcher.close()
    elapsed = max(seen.last_visible_s - seen.first_created_s, 1e-9)
    complete = seen.records >= len(leads)
    report = run.report
    if not complete:
        report.notes.append(f"{MODES[mode]}: only {seen.records} of {len(leads)} seen in time")
    return report.add(
        Figure(
            part="passthrough",
            name=MODES[mode],
            value=seen.records / elapsed,
            unit="leads/s" if mode == "router-io" else "records/s",
            timed=(
                f"{len(leads):,} pre-produced Lead records ({_mean_size(leads)} B values), "
                f"{partitions} partitions, a transaction per 100 ms or 2,000 records; from the "
                "first output's CreateTime to the last output visible to a read_committed "
                "consumer" + (ROUTER_IO if mode == "router-io" else "")
            ),
            count=seen.records,
            details={"seconds": round(elapsed, 3), "complete": float(complete)},
        )
    )


def _mean_size(leads: list[EncodedLead]) -> int:
    return round(sum(len(lead.value) for lead in leads) / max(1, len(leads)))
