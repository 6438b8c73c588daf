from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from services.console.board import Board, percentile
from services.leads.events import Outcome, RequestKind
from tests.unit.console.builders import candidate, make_assignment


def test_assigned_and_open_follow_reassignment_and_release() -> None:
    board = Board()
    board.record(make_assignment("l1", "ann"))
    board.record(make_assignment("l2", "ann"))
    board.record(make_assignment("l1", "bob", attempt=2, kind=RequestKind.REASSIGN))
    board.record(make_assignment("l2", None, outcome=Outcome.RELEASED, kind=RequestKind.RELEASE))

    (pool,) = board.snapshot().pools
    rows = {r.rep_id: (r.assigned, r.open) for r in pool.reps}
    assert rows == {"ann": (2, 0), "bob": (1, 1)}
    assert (pool.assigned, pool.reassigned, pool.released) == (3, 1, 1)


def test_a_reassignment_to_nobody_leaves_the_lead_open_with_no_one() -> None:
    board = Board()
    board.record(make_assignment("l1", "ann"))
    board.record(
        make_assignment(
            "l1", None, attempt=2, outcome=Outcome.UNASSIGNED, kind=RequestKind.REASSIGN
        )
    )

    (pool,) = board.snapshot().pools
    assert [(r.rep_id, r.assigned, r.open) for r in pool.reps] == [("ann", 1, 0)]


def test_skips_are_counted_by_the_kind_of_reason() -> None:
    board = Board()
    skipped = (
        candidate("ann", "away: until 10:00"),
        candidate("bob", "away: until 11:00"),
        candidate("cy", "daily_cap: 20 of 20"),
        candidate("dee"),
    )
    board.record(make_assignment("l1", "dee", candidates=skipped))

    (pool,) = board.snapshot().pools
    assert pool.skipped == (("away", 2), ("daily_cap", 1))
    assert [r.rep_id for r in pool.reps] == ["ann", "bob", "cy", "dee"]


def test_deviation_is_measured_against_the_weighted_share() -> None:
    board = Board()
    for n in range(3):
        board.record(make_assignment(f"a{n}", "ann"))
    board.record(make_assignment("b0", "bob"))

    (pool,) = board.snapshot({"emea": {"ann": 3, "bob": 1}}).pools
    assert {r.rep_id: r.deviation for r in pool.reps} == {"ann": 0.0, "bob": 0.0}
    (equal,) = board.snapshot().pools
    assert {r.rep_id: r.deviation for r in equal.reps} == {"ann": 1.0, "bob": -1.0}


def test_speed_to_lead_counts_first_assignments_only() -> None:
    board = Board()
    board.record(make_assignment("l1", received_at_ms=0, decided_at_ms=10))
    board.record(make_assignment("l2", received_at_ms=0, decided_at_ms=30))
    board.record(
        make_assignment("l1", "bob", attempt=2, kind=RequestKind.REASSIGN, decided_at_ms=90_000)
    )

    (pool,) = board.snapshot().pools
    assert (pool.speed_p50_ms, pool.speed_p99_ms) == (10, 30)


def test_unassigned_decisions_show_in_their_pool_and_the_tail() -> None:
    board = Board(tail=2)
    board.record(make_assignment("l1", pool_id="unassigned", outcome=Outcome.UNASSIGNED))
    board.record(make_assignment("l2"))
    board.record(make_assignment("l3"))

    snapshot = board.snapshot()
    assert {p.pool_id: p.unassigned for p in snapshot.pools} == {"emea": 0, "unassigned": 1}
    assert [d.lead_id for d in snapshot.latest] == ["l3", "l2"]


@settings(deadline=None)  # a loaded CI machine must not fail on time
@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1))
def test_percentiles_are_members_of_the_sample_and_ordered(values: list[int]) -> None:
    ordered = sorted(values)
    p50, p99 = percentile(ordered, 0.5), percentile(ordered, 0.99)
    assert p50 in values and p99 in values
    assert p50 is not None and p99 is not None and p50 <= p99


@settings(deadline=None)  # a loaded CI machine must not fail on time
@given(st.lists(st.tuples(st.sampled_from(["ann", "bob", "cy"]), st.integers(1, 3))))
def test_the_same_stream_always_gives_the_same_board(picks: list[tuple[str, int]]) -> None:
    stream = [make_assignment(f"l{i}", rep, attempt=a) for i, (rep, a) in enumerate(picks)]
    first, second = Board(), Board()
    for a in stream:
        first.record(a)
    for a in stream:
        second.record(a)
    assert first.snapshot() == second.snapshot()
