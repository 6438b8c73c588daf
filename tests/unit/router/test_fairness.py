from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from services.router.fairness import Availability, FairnessPolicy
from services.router.rotation import RotationState
from services.router.strategies import Picked, PickRequest, Strategy, StrategyKind
from tests.unit.router.strategy_builders import ABSENT, EL, PASSED, contenders

REPS = {"ann": 1, "bob": 1, "cat": 1}


def picks(
    strategy: Strategy,
    state: RotationState,
    n: int,
    marks: dict[str, Availability] | None = None,
    start: int = 0,
) -> tuple[list[str], RotationState]:
    out = []
    for i in range(start, start + n):
        decision, state = strategy(state, contenders(REPS, marks), PickRequest(f"l{i}"))
        assert isinstance(decision, Picked)
        out.append(decision.rep_id)
    return out, state


def after_absence(policy: FairnessPolicy, limit: int = 3) -> list[str]:
    """cat is away for 12 leads, then everyone is back: the next 9 picks."""
    strategy = Strategy(StrategyKind.WEIGHTED, policy, catch_up_limit=limit)
    _, state = picks(strategy, RotationState.empty("p"), 3)
    _, state = picks(strategy, state, 12, {"cat": ABSENT}, start=3)
    back, _ = picks(strategy, state, 9, start=15)
    return back


def test_strict_loses_skipped_turns_and_resumes_the_plain_rotation() -> None:
    assert after_absence(FairnessPolicy.STRICT) == ["cat", "ann", "bob"] * 3


def test_catch_up_gives_a_returning_rep_priority_until_level() -> None:
    # cat is owed 3 leads (the limit; the absence alone would owe it 4) and earns its share
    # while catching up, so it takes five in a row before the rotation resumes
    back = after_absence(FairnessPolicy.CATCH_UP, limit=3)
    assert back == ["cat"] * 5 + ["bob", "ann", "cat", "bob"]


def test_catch_up_priority_is_bounded_by_the_limit() -> None:
    back = after_absence(FairnessPolicy.CATCH_UP, limit=1)
    assert back[:2] == ["cat", "cat"] and back[2] != "cat"
    assert after_absence(FairnessPolicy.CATCH_UP, limit=0) == after_absence(FairnessPolicy.STRICT)


def test_pro_rata_counts_absence_as_served_even_when_the_rep_was_owed() -> None:
    strategy = Strategy(StrategyKind.WEIGHTED, FairnessPolicy.PRO_RATA)
    _, state = picks(strategy, RotationState.empty("p"), 2)  # ann, bob served; cat owed
    assert state.standing("cat").credit > 0
    _, state = picks(strategy, state, 1, {"cat": ABSENT}, start=2)
    assert state.standing("cat").credit == 0
    strict = Strategy(StrategyKind.WEIGHTED, FairnessPolicy.STRICT)
    _, kept = picks(strict, RotationState.empty("p"), 2)
    _, kept = picks(strict, kept, 1, {"cat": ABSENT}, start=2)
    assert kept.standing("cat").credit > 0


def test_a_rep_passed_over_for_one_lead_is_never_compensated() -> None:
    strategy = Strategy(StrategyKind.WEIGHTED, FairnessPolicy.CATCH_UP)
    _, state = picks(strategy, RotationState.empty("p"), 6, {"cat": PASSED})
    assert state.standing("cat").credit == 0


@settings(max_examples=150, deadline=None)
@given(
    limit=st.integers(0, 5),
    weights=st.lists(st.integers(1, 6), min_size=2, max_size=5),
    marks=st.lists(
        st.lists(st.sampled_from([EL, ABSENT, PASSED]), min_size=5, max_size=5), max_size=60
    ),
    policy=st.sampled_from(list(FairnessPolicy)),
)
def test_no_member_is_ever_owed_or_ahead_by_more_than_the_policy_allows(
    limit: int, weights: list[int], marks: list[list[Availability]], policy: FairnessPolicy
) -> None:
    """Credits stay within (limit + 2) leads either way, whatever the absences."""
    reps = {f"r{i}": w for i, w in enumerate(weights)}
    total = sum(reps.values())
    strategy = Strategy(StrategyKind.WEIGHTED, policy, catch_up_limit=limit)
    state = RotationState.empty("p")
    for i, row in enumerate(marks):
        availability = {rep: row[j] for j, rep in enumerate(reps)}
        _, state = strategy(state, contenders(reps, availability), PickRequest(f"l{i}"))
        for member in state.members:
            assert abs(member.credit) <= (limit + 2) * total, (member, i)
