"""What every part of a run shares: the broker, the sizes, where logs and profiles go."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen

from bench.leads import EncodedLead, encoded_leads
from bench.processes import running
from bench.profiles import sampling
from bench.report import Report


@dataclass(frozen=True, slots=True)
class Sizes:
    leads: int
    """Pre-produced leads for the router's throughput."""
    passthrough_records: int
    """Pre-produced leads for the passthrough (the same records, often more of them)."""
    scaling_leads: int
    router_budget_s: float
    """A router run stops at this bound even with leads left: the figure is leads/s over it."""
    pools: int
    timers: int
    ingest_per_channel: int
    ingest_concurrency: int
    rates: tuple[int, ...]
    """Fixed end-to-end rates (leads/s); the highest sustainable is searched above them."""
    rate_seconds: float
    search_rates: bool
    """Search for the highest sustained rate above the fixed ones (skipped in --quick)."""
    decisions: int
    """Decisions timed per pool size."""
    backtest_leads: int = 1_000_000
    """Generated leads the backtest part runs through both stages, twice."""
    backtest_budget_s: float = 120.0
    """The backtest part stops at this bound even with leads left: the figure is leads/s over
    it (at today's speed a million leads would take the benchmark past 25 minutes)."""

    @classmethod
    def full(cls) -> Sizes:
        return cls(
            leads=200_000,
            passthrough_records=200_000,
            scaling_leads=100_000,
            router_budget_s=60.0,
            pools=10_000,
            timers=100_000,
            ingest_per_channel=3_000,
            ingest_concurrency=32,
            rates=(100, 1_000),
            rate_seconds=10.0,
            search_rates=True,
            decisions=2_000,
        )

    @classmethod
    def quick(cls) -> Sizes:
        return cls(
            leads=1_500,
            passthrough_records=20_000,
            scaling_leads=1_500,
            router_budget_s=20.0,
            pools=10_000,
            timers=10_000,
            ingest_per_channel=300,
            ingest_concurrency=32,
            rates=(100, 1_000),
            rate_seconds=2.0,
            search_rates=False,
            decisions=200,
            backtest_leads=20_000,
            backtest_budget_s=30.0,
        )

    def scaled(self, factor: float) -> Sizes:
        """Every count times `factor` (at least 10); rates and durations unchanged."""
        counts = (
            "leads",
            "passthrough_records",
            "scaling_leads",
            "pools",
            "timers",
            "ingest_per_channel",
            "decisions",
            "backtest_leads",
        )
        changes = {name: max(10, round(getattr(self, name) * factor)) for name in counts}
        return dataclasses.replace(self, **changes)


class LeadCorpus:
    """The encoded leads, built once per run and shared by every part that pre-produces them."""

    def __init__(self) -> None:
        self._leads: list[EncodedLead] = []

    def leads(self, count: int) -> list[EncodedLead]:
        if len(self._leads) < count:
            self._leads = encoded_leads(count)
        return self._leads[:count]


@dataclass(frozen=True, slots=True)
class Run:
    bootstrap: str
    sizes: Sizes
    report: Report
    log_dir: Path
    corpus: LeadCorpus
    profile_dir: Path | None = None
    """When set, every subject process is sampled by py-spy and leaves its profile here."""

    @contextmanager
    def subject(
        self, name: str, module: str, args: Sequence[str] = (), env: dict[str, str] | None = None
    ) -> Iterator[Popen[bytes]]:
        """Run the process being measured; sampled by py-spy when the run asks for profiles."""
        log_path = self.log_dir / f"{name}.log"
        with running(module, args, env, log_path) as process:
            if self.profile_dir is None:
                yield process
                return
            self.profile_dir.mkdir(parents=True, exist_ok=True)
            with sampling(process.pid, self.profile_dir / f"{name}.collapsed.txt"):
                yield process
