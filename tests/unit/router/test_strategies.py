from __future__ import annotations

import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from services.router.fairness import FairnessPolicy
from services.router.rotation import MemberStanding, RotationState
from services.router.strategies import (
    Decision,
    NobodyEligible,
    Picked,
    PickRequest,
    Strategy,
    StrategyKind,
)
from tests.unit.router.strategy_builders import ABSENT, EL, PASSED, contenders

WEIGHTED = Strategy(StrategyKind.WEIGHTED)


def run(
    strategy: Strategy, weights: dict[str, int], n: int, state: RotationState | None = None
) -> tuple[list[str], RotationState]:
    state = state or RotationState.empty("p")
    picks = []
    for i in range(n):
        decision, state = strategy(state, contenders(weights), PickRequest(f"lead-{i}"))
        assert isinstance(decision, Picked)
        picks.append(decision.rep_id)
    return picks, state


def test_round_robin_ignores_weights_and_cycles_in_rep_id_order() -> None:
    picks, _ = run(Strategy(StrategyKind.ROUND_ROBIN), {"cat": 5, "ann": 1, "bob": 9}, 6)
    assert picks == ["ann", "bob", "cat", "ann", "bob", "cat"]


def test_weighted_gives_each_member_its_share_in_every_window_of_the_total_weight() -> None:
    picks, _ = run(WEIGHTED, {"ann": 3, "bob": 1}, 8)
    assert Counter(picks[:4]) == {"ann": 3, "bob": 1}
    assert Counter(picks[4:]) == {"ann": 3, "bob": 1}


@settings(max_examples=300, deadline=None)
@given(
    weights=st.lists(st.integers(1, 25), min_size=1, max_size=8),
    n=st.integers(1, 150),
    kind=st.sampled_from([StrategyKind.WEIGHTED, StrategyKind.ROUND_ROBIN]),
)
def test_every_member_stays_within_one_lead_of_its_weighted_share_at_every_prefix(
    weights: list[int], n: int, kind: StrategyKind
) -> None:
    reps = {f"r{i}": w for i, w in enumerate(weights)}
    if kind is StrategyKind.ROUND_ROBIN:
        reps = dict.fromkeys(reps, 1)
    total = sum(reps.values())
    strategy = Strategy(kind)
    state = RotationState.empty("p")
    counts: Counter[str] = Counter()
    for i in range(1, n + 1):
        decision, state = strategy(state, contenders(reps), PickRequest(f"l{i}"))
        assert isinstance(decision, Picked)
        counts[decision.rep_id] += 1
        for rep, weight in reps.items():
            # |count - i * w / W| <= 1, in integers
            assert abs(counts[rep] * total - i * weight) <= total, (rep, i, dict(counts))


@settings(max_examples=200, deadline=None)
@given(
    weights=st.lists(st.integers(1, 10), min_size=1, max_size=6),
    marks=st.lists(
        st.lists(st.sampled_from([EL, ABSENT, PASSED]), min_size=6, max_size=6),
        min_size=1,
        max_size=60,
    ),
    kind=st.sampled_from(list(StrategyKind)),
    fairness=st.sampled_from(list(FairnessPolicy)),
)
def test_every_request_gets_exactly_one_decision_and_never_an_ineligible_rep(
    weights: list[int], marks: list[list[object]], kind: StrategyKind, fairness: FairnessPolicy
) -> None:
    reps = {f"r{i}": w for i, w in enumerate(weights)}
    strategy = Strategy(kind, fairness)
    state = RotationState.empty("p")
    for i, row in enumerate(marks):
        availability = {rep: row[j] for j, rep in enumerate(reps)}
        before = state
        decision, state = strategy(state, contenders(reps, availability), PickRequest(f"l{i}"))  # type: ignore[arg-type]
        if any(a is EL for a in availability.values()):
            assert isinstance(decision, Picked)
            assert availability[decision.rep_id] is EL
            chosen = state.standing(decision.rep_id)
            assert chosen.open == before.standing(decision.rep_id).open + 1
            assert state.decisions == before.decisions + 1
        else:
            assert isinstance(decision, NobodyEligible)
            assert state == before
        assert sum(m.credit for m in state.members) == 0


@settings(max_examples=100, deadline=None)
@given(
    weights=st.lists(st.integers(1, 10), min_size=1, max_size=5),
    marks=st.lists(st.lists(st.sampled_from([EL, ABSENT]), min_size=5, max_size=5), max_size=40),
    fairness=st.sampled_from(list(FairnessPolicy)),
)
def test_replaying_a_decision_sequence_from_its_initial_state_reproduces_it(
    weights: list[int], marks: list[list[object]], fairness: FairnessPolicy
) -> None:
    reps = {f"r{i}": w for i, w in enumerate(weights)}
    strategy = Strategy(StrategyKind.WEIGHTED, fairness)

    def replay() -> tuple[list[Decision], RotationState]:
        state, out = RotationState.empty("p"), list[Decision]()
        for i, row in enumerate(marks):
            availability = {rep: row[j] for j, rep in enumerate(reps)}
            decision, state = strategy(state, contenders(reps, availability), PickRequest(f"l{i}"))  # type: ignore[arg-type]
            out.append(decision)
        return out, state

    assert replay() == replay()


def test_eligible_preferred_owner_wins_and_is_charged_like_any_pick() -> None:
    decision, state = WEIGHTED(
        RotationState.empty("p"),
        contenders({"ann": 1, "bob": 1}),
        PickRequest("l1", preferred_owner="bob"),
    )
    assert decision == Picked("bob", True, (("ann", 1), ("bob", 1)))
    assert [m.credit for m in state.members] == [1, -1]


def test_ineligible_preferred_owner_falls_back_to_the_rotation() -> None:
    decision, _ = WEIGHTED(
        RotationState.empty("p"),
        contenders({"ann": 1, "bob": 1}, {"bob": ABSENT}),
        PickRequest("l1", preferred_owner="bob"),
    )
    assert isinstance(decision, Picked) and decision.rep_id == "ann" and not decision.by_preference


def test_least_loaded_picks_fewest_open_then_the_standard_tie_break() -> None:
    state = RotationState(
        pool_id="p",
        members=(MemberStanding(rep_id="ann", open=2), MemberStanding(rep_id="bob", open=1)),
    )
    strategy = Strategy(StrategyKind.LEAST_LOADED)
    decision, state = strategy(state, contenders({"ann": 1, "bob": 1, "cat": 1}), PickRequest("c1"))
    assert isinstance(decision, Picked) and decision.rep_id == "cat"
    decision, state = strategy(state, contenders({"ann": 1, "bob": 1, "cat": 1}), PickRequest("x"))
    # bob and cat both hold one; bob is further below target now that cat was charged
    assert isinstance(decision, Picked) and decision.rep_id == "bob"


def test_tie_break_prefers_higher_weight_then_least_recent_then_rep_id() -> None:
    decision, _ = WEIGHTED(
        RotationState.empty("p"), contenders({"ann": 1, "bob": 1}), PickRequest("l")
    )
    assert isinstance(decision, Picked) and decision.rep_id == "ann"  # level: rep id decides
    strategy = Strategy(StrategyKind.LEAST_LOADED)
    decision, _ = strategy(
        RotationState.empty("p"), contenders({"ann": 1, "bob": 2}), PickRequest("l")
    )
    assert isinstance(decision, Picked) and decision.rep_id == "bob"  # bob is further below


def test_members_removed_from_the_pool_leave_the_rotation_state() -> None:
    _, state = run(WEIGHTED, {"ann": 1, "bob": 1}, 3)
    _, state = run(WEIGHTED, {"ann": 1}, 1, state)
    assert [m.rep_id for m in state.members] == ["ann"]


@settings(max_examples=200, deadline=None)
@given(
    weights=st.lists(st.integers(0, 6), min_size=1, max_size=7),
    order=st.randoms(use_true_random=False),
    marks=st.lists(
        st.lists(st.sampled_from([EL, EL, ABSENT, PASSED]), min_size=7, max_size=7),
        min_size=1,
        max_size=40,
    ),
    kind=st.sampled_from(list(StrategyKind)),
    fairness=st.sampled_from(list(FairnessPolicy)),
)
def test_a_strategy_lined_up_for_its_pool_decides_as_one_given_only_the_contenders(
    weights: list[int],
    order: random.Random,
    marks: list[list[object]],
    kind: StrategyKind,
    fairness: FairnessPolicy,
) -> None:
    names = [f"r{i}" for i in range(len(weights))]
    order.shuffle(names)  # the pool's member order, not rep-id order
    reps = dict(zip(names, weights, strict=True))
    plain = Strategy(kind, fairness)
    lined_up = plain.lined_up(reps.items())
    state = RotationState.empty("p")
    for i, row in enumerate(marks):
        availability = {rep: row[j] for j, rep in enumerate(reps)}
        pool = contenders(reps, availability)  # type: ignore[arg-type]
        request = PickRequest(f"l{i}", preferred_owner=names[i % len(names)] if i % 3 else None)
        expected = plain(state, sorted(pool, key=lambda c: c.rep_id), request)
        assert lined_up(state, pool, request) == expected
        state = expected[1]
