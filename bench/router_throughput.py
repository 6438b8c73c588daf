"""Parts 1 and 6a: router throughput, exactly-once and at-least-once, and with 1 or 2 instances.

N leads are pre-produced to `leads.inbound`; then the router starts and runs them through
triage and assign. The figure runs from the first routing request's CreateTime (triage handling
the first lead) to the moment a read_committed consumer has seen an assignment for every lead,
or to the end of the run's time budget when the router is slower than that: then it is the
leads assigned within the budget per second, and the table says how many of the N that was.
"""

from __future__ import annotations

from bench.broker import delete_prefixed_topics, fresh_settings
from bench.context import Run
from bench.kafka_io import CommittedWatcher, first_create_time_s, produce_all
from bench.report import Figure
from bench.router_service import (
    last_error,
    process_names,
    publish_bench_config,
    router_service,
)
from services.leads.topics import Topic

NAMES = {
    "exactly_once": "router exactly-once",
    "at_least_once": "router at-least-once",
}
SPLIT_NAME = "router exactly-once, stages in 2 processes"
PARTITIONS = 4


def run_router(run: Run) -> None:
    for guarantee in ("exactly_once", "at_least_once"):
        measure_router(run, run.sizes.leads, guarantee=guarantee, instances=1, part="router")
    measure_router(
        run, run.sizes.leads, guarantee="exactly_once", instances=1, part="router", split=True
    )


def run_scaling(run: Run) -> None:
    curve = []
    for instances in (1, 2):
        figure = measure_router(
            run, run.sizes.scaling_leads, guarantee="exactly_once", instances=instances,
            part="scaling",
        )  # fmt: skip
        curve.append((float(instances), figure.value))
    run.report.curves["router exactly-once leads/s"] = curve


def measure_router(
    run: Run, count: int, *, guarantee: str, instances: int, part: str, split: bool = False
) -> Figure:
    settings = fresh_settings(run.bootstrap, partitions=PARTITIONS)
    try:
        publish_bench_config(settings)
        produce_all(settings, settings.topic(Topic.INBOUND), run.corpus.leads(count))
        watcher = CommittedWatcher(settings, settings.topic(Topic.ASSIGNMENTS), distinct=True)
        try:
            with router_service(
                run, settings, label=part, instances=instances, guarantee=guarantee, split=split
            ) as processes:
                seen = watcher.wait_for(
                    count,
                    timeout_s=run.sizes.router_budget_s,
                    alive=lambda: all(p.poll() is None for p in processes),
                )
                died = [p for p in processes if p.poll() is not None]
        finally:
            watcher.close()
        first = first_create_time_s(settings, settings.topic(Topic.ROUTING_REQUESTS))
    finally:
        delete_prefixed_topics(settings)
    names = process_names(part, instances, guarantee, split)
    for process, log_name in zip(processes, names, strict=True):
        if process in died:
            why = last_error(run.log_dir / f"{log_name}.log")
            run.report.notes.append(
                f"{NAMES[guarantee]} x{instances}: {log_name} exited with "
                f"{process.returncode} during the run: {why}"
            )
    start = first if first is not None else seen.first_created_s
    elapsed = max(seen.last_visible_s - start, 1e-9)
    name = f"{NAMES[guarantee]}, {instances} instance(s)" if part == "scaling" else NAMES[guarantee]
    name = SPLIT_NAME if split else name
    ceiling = run.report.value("passthrough", "raw transactional passthrough")
    share = {}  # the ratio add_ratios gives the two named figures, for this one too
    if split and ceiling:
        share["share_of_raw_passthrough_%"] = round(100 * seen.distinct_keys / elapsed / ceiling, 2)
    return run.report.add(
        Figure(
            part=part,
            name=name,
            value=seen.distinct_keys / elapsed,
            unit="leads/s",
            timed=(
                f"{count:,} pre-produced leads through triage and assign ({len(processes)} "
                f"router process(es), {PARTITIONS} partitions): from the first routing request's "
                "CreateTime until an assignment for every lead is visible to a read_committed "
                f"consumer, or for at most {run.sizes.router_budget_s:.0f} s after the router "
                "started; leads assigned in that time per second"
            ),
            count=seen.distinct_keys,
            details={
                "seconds": round(elapsed, 3),
                "share_done_%": round(100 * seen.distinct_keys / count, 1),
                "duplicate_assignments": float(seen.records - seen.distinct_keys),
                "instances_died": float(len(died)),
                **share,
            },
        )
    )
