"""The backtest: both runs over one pass of the history, compared lead by lead.

    history (leads in time order) ─┬─ baseline run: the config in force at each lead's time
    presence changes, by time ─────┤
                                   └─ candidate run: the candidate config at every time
                                          └─ Comparison (counts, moved leads)

Both start from empty state, or (`warm_up`) from the state the configs in force built over
the leads before the window. The history is streamed: each lead goes through both runs and
into the comparison, then is dropped, so memory holds the runs' state and the comparison,
not the leads. Presence is
replayed from `reps.presence`: a change is known from its record's time on, and both runs
read the same book.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from services.backtest.compare import Comparison
from services.backtest.pipeline import ConfigTimeline, Routing, Run, fixed
from services.backtest.sharing import Sharing
from services.leads.events import Lead, RepPresence
from services.leads.routing_config import VersionedConfig
from services.router.presence import PresenceBook, PresenceView


@dataclass(frozen=True, slots=True)
class Inbound:
    """One lead of the history, with the time its `leads.inbound` record was appended."""

    lead: Lead
    at_ms: int


@dataclass(frozen=True, slots=True)
class Window:
    """Leads whose record time is in [since_ms, until_ms); None is open."""

    since_ms: int | None = None
    until_ms: int | None = None

    def holds(self, at_ms: int) -> bool:
        if self.since_ms is not None and at_ms < self.since_ms:
            return False
        return self.until_ms is None or at_ms < self.until_ms


@dataclass
class Outcome:
    comparison: Comparison
    baseline_versions: list[int]
    candidate: VersionedConfig
    newest_in_force: VersionedConfig
    first_ms: int | None
    last_ms: int | None
    before_first_config: int
    presence_changes: int
    warmed: int = 0
    """Leads before the window run under the configs in force only, to build the state."""
    shared: int = 0
    """Leads the candidate run took from the baseline, having read the same values."""


def backtest(
    history: Iterable[Inbound],
    timeline: ConfigTimeline,
    candidate: VersionedConfig,
    *,
    presence: Iterable[tuple[int, RepPresence]] = (),
    window: Window = Window(),
    warm_up: bool = False,
    closes: Iterable[tuple[int, str]] = (),
    progress: Callable[[int], None] | None = None,
    share: bool = True,
) -> Outcome:
    """Run `history` (in time order) under `timeline` and under `candidate`, compared in
    `window`. From empty state; with `warm_up`, the leads before the window go through the
    configs in force alone, and the candidate starts from that state at the window's start.

    `presence`: (record time, change) in any order; it is sorted here (a compacted topic:
    bounded by reps, not history). `closes`: (record time, lead id) of leads closed, in time
    order, streamed beside the leads: each releases the lead's owner in both runs.
    `share`: let the candidate take the baseline's routing of a lead wherever it reads the
    same values (`sharing`); off, every lead is decided twice, with the same outcome.
    """
    baseline = Run(timeline)
    trial: Run | None = None
    comparison = Comparison()
    changes = sorted(presence, key=lambda item: item[0])
    book = PresenceBook()
    view = PresenceView(book.status_at)
    sharing = Sharing(candidate) if share else None
    known = warmed = before_first = 0
    first = last = None
    closing = iter(closes)
    close = next(closing, None)
    for n, item in enumerate(history, 1):
        while known < len(changes) and changes[known][0] <= item.at_ms:
            book.record(changes[known][1])
            known += 1
        while close is not None and close[0] <= item.at_ms:
            for run in (baseline, trial):
                if run is not None:
                    run.close(close[1])
            close = next(closing, None)
        if not window.holds(item.at_ms):
            early = window.since_ms is not None and item.at_ms < window.since_ms
            if warm_up and early and trial is None:
                baseline.route(item.lead, item.at_ms, view)
                warmed += 1
                before_first += timeline.predates(item.at_ms)
            continue
        trial = trial or baseline.fork(fixed(candidate))
        first = item.at_ms if first is None else first
        last = item.at_ms
        before_first += timeline.predates(item.at_ms)
        comparison.add(*_both(baseline, trial, sharing, item, view))
        if progress is not None and n % 100_000 == 0:
            progress(n)
    return Outcome(
        comparison=comparison,
        baseline_versions=timeline.versions,
        candidate=candidate,
        newest_in_force=timeline.newest,
        first_ms=first,
        last_ms=last,
        before_first_config=before_first,
        presence_changes=known,
        warmed=warmed,
        shared=0 if sharing is None else sharing.shared,
    )


def _both(
    baseline: Run, trial: Run, sharing: Sharing | None, item: Inbound, view: PresenceView
) -> tuple[Routing, Routing]:
    """`item` routed by both runs: the candidate takes the baseline's routing where `sharing`
    shows that it reads the same values, and decides again otherwise."""
    lead, at_ms = item.lead, item.at_ms
    if sharing is None:
        return baseline.route(lead, at_ms, view), trial.route(lead, at_ms, view)
    in_force = baseline.config_at(at_ms)
    found = baseline.find(lead, at_ms)
    before = baseline.route(lead, at_ms, view, found)
    if sharing.takes(in_force, lead, found, before):
        trial.adopt(baseline, lead, before, found)
        sharing.shared += 1
        return before, before
    after = trial.route(lead, at_ms, view, found if sharing.same_graph(in_force) else None)
    sharing.settle(baseline, trial, lead, before, after)
    return before, after
