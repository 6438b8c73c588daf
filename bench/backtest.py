"""Part 12: the backtest's throughput, in process: generated leads through triage and assign
twice (the configs in force and a candidate), compared lead by lead.

The leads are made as they are consumed (never held, as the backtest streams its history), so
the time to make them is measured alone first, over the same leads, and taken out. Peak RSS
is reported beside the figure: it should follow the state (people, pools, open leads), not
the number of leads.
"""

from __future__ import annotations

import random
import resource
import time
from collections.abc import Iterator
from pathlib import Path

import yaml

from bench.context import Run
from bench.leads import make_lead
from bench.report import Figure
from services.backtest.backtest import Inbound, backtest
from services.backtest.pipeline import ConfigTimeline
from services.leads.routing_config import VersionedConfig
from services.router.config_document import content_hash, parse_config_text
from services.streaming.heap import Tenure, settled

CONFIG = Path(__file__).with_name("routing.bench.yaml")
START_MS = 1_780_000_000_000


def _history(count: int) -> Iterator[Inbound]:
    rng = random.Random(12)
    for index in range(count):
        at = START_MS + index * 50
        yield Inbound(make_lead(index, rng, at), at + 1)


def _configs() -> tuple[ConfigTimeline, VersionedConfig]:
    text = CONFIG.read_text(encoding="utf-8")
    in_force = VersionedConfig(1, content_hash(text), parse_config_text(text))
    document = yaml.safe_load(text)
    document["pools"][0]["members"][0]["weight"] = 4  # the candidate: one rep's weight doubled
    changed = yaml.safe_dump(document)
    candidate = VersionedConfig(0, content_hash(changed), parse_config_text(changed))
    return ConfigTimeline({1: (0, in_force)}), candidate


def run_backtest_part(run: Run) -> None:
    wanted, budget_s = run.sizes.backtest_leads, run.sizes.backtest_budget_s
    timeline, candidate = _configs()
    fed = _Budgeted(settled(_history(wanted), Tenure()), budget_s)  # as the CLI runs it
    started = time.perf_counter()
    outcome = backtest(fed, timeline, candidate)
    total_s = time.perf_counter() - started
    count = fed.count
    started = time.perf_counter()
    for _ in _history(count):  # the same leads made alone: their making is not the backtest's
        pass
    making_s = time.perf_counter() - started
    backtest_s = max(1e-9, total_s - making_s)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    run.report.add(
        Figure(
            part="backtest",
            name="backtest, both stages, two runs",
            value=count / backtest_s,
            unit="leads/s",
            timed=(
                f"{count:,} of {wanted:,} generated leads (bench corpus, one every 50 ms; the "
                f"history ends at {budget_s:.0f} s if not before) through triage and assign under "
                "the bench config and under a candidate (one weight changed), compared lead by "
                "lead, in this process; the time to make the leads, measured alone over the same "
                "leads, taken out"
            ),
            count=count,
            details={
                "seconds": round(backtest_s, 2),
                "making_leads_s": round(making_s, 2),
                "leads_per_s_with_making": round(count / total_s),
                "share_done": round(count / wanted, 4),
                "moved": len(outcome.comparison.moved),
                "peak_rss_mb": round(peak_mb),
            },
        )
    )


class _Budgeted:
    """`leads`, ending early once `budget_s` has passed since the first was asked for."""

    def __init__(self, leads: Iterator[Inbound], budget_s: float) -> None:
        self.leads, self.budget_s, self.count = leads, budget_s, 0

    def __iter__(self) -> Iterator[Inbound]:
        deadline = time.perf_counter() + self.budget_s
        for inbound in self.leads:
            if time.perf_counter() > deadline:
                return
            self.count += 1
            yield inbound
