"""Part 6b: what one assignment decision costs as a pool grows, on the pure strategy alone.

Each pool starts from a steady state (every member has standing and five open leads) and every
timed decision starts from that same state, so the figure is one decision's cost at that size,
not a growing history's. No Kafka, no process boundary: the strategy function only.
"""

from __future__ import annotations

import time

from bench.context import Run
from bench.report import Figure
from services.router.fairness import Availability, FairnessPolicy
from services.router.rotation import MemberStanding, RotationState
from services.router.strategies import Contender, PickRequest, Strategy, StrategyKind

POOL_SIZES = (10, 100, 1_000)
OPEN_PER_MEMBER = 5


def steady_pool(members: int) -> tuple[RotationState, list[Contender]]:
    reps = [f"rep-{m:04d}" for m in range(members)]
    standings = tuple(
        MemberStanding(
            rep_id=rep,
            credit=(m % 7) - 3,
            assigned=50 + m % 11,
            last_assigned_seq=m,
            open=OPEN_PER_MEMBER,
        )
        for m, rep in enumerate(reps)
    )
    state = RotationState(pool_id="bench-pool", decisions=members, members=standings)
    contenders = [
        Contender(
            rep_id=rep, weight=1 + m % 3, availability=Availability.ELIGIBLE, day="2026-11-23"
        )
        for m, rep in enumerate(reps)
    ]
    return state, contenders


def run_decision_cost(run: Run) -> None:
    for kind in (StrategyKind.WEIGHTED, StrategyKind.LEAST_LOADED):
        curve = []
        for members in POOL_SIZES:
            count = max(5, run.sizes.decisions * 10 // members)
            figure = _time(run, kind, members, count)
            curve.append((float(members), figure.value))
        run.report.curves[f"{kind.value} decision µs vs members"] = curve


def _time(run: Run, kind: StrategyKind, members: int, count: int) -> Figure:
    state, contenders = steady_pool(members)
    # lined up once, as the router does per pool config (`decisions.strategy_of`)
    strategy = Strategy(kind, FairnessPolicy.CATCH_UP).lined_up(
        (c.rep_id, c.weight) for c in contenders
    )
    requests = [PickRequest(lead_id=f"bench-{i:07d}") for i in range(count)]
    started = time.perf_counter()
    for request in requests:
        strategy(state, contenders, request)
    micros = (time.perf_counter() - started) / count * 1e6
    return run.report.add(
        Figure(
            part="decision",
            name=f"{kind.value} decision, {members} members",
            value=micros,
            unit="µs",
            timed=(
                f"Strategy({kind.value}, catch_up) called {count:,} times in this process on a "
                f"{members}-member pool ({OPEN_PER_MEMBER} open leads each), every call from "
                "the same state; mean per call"
            ),
            count=count,
        )
    )
