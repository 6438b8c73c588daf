"""Properties of whole request sequences through the assign handler, against a simple oracle."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from services.leads.events import Outcome, PresenceStatus, RequestKind
from tests.unit.router.assign_builders import T0, Router, make_request, presence
from tests.unit.router.config_builders import make_config, make_rep

REPS = ("ann", "bob", "cat", "dan")


@dataclass(frozen=True)
class Op:
    kind: str  # "assign" | "release" | "reassign" | "presence"
    pick: int
    status: PresenceStatus = PresenceStatus.AVAILABLE


ops = st.lists(
    st.one_of(
        st.builds(Op, st.just("assign"), st.integers(0, 99)),
        st.builds(Op, st.just("release"), st.integers(0, 99)),
        st.builds(Op, st.just("reassign"), st.integers(0, 99)),
        st.builds(
            Op, st.just("presence"), st.integers(0, 99), st.sampled_from(list(PresenceStatus))
        ),
    ),
    max_size=60,
)


@settings(max_examples=80, deadline=None)
@given(
    ops=ops,
    caps=st.lists(st.one_of(st.none(), st.integers(1, 3)), min_size=4, max_size=4),
    weights=st.lists(st.integers(1, 4), min_size=4, max_size=4),
    strategy=st.sampled_from(["round_robin", "weighted", "least_loaded"]),
    fairness=st.sampled_from(["strict", "catch_up", "pro_rata"]),
)
def test_every_request_gets_one_decision_never_an_ineligible_rep_never_a_previous_owner(
    ops: list[Op], caps: list[int | None], weights: list[int], strategy: str, fairness: str
) -> None:
    """Pool `general` (ann, bob, cat) falls back to `overflow` (dan); releases and reassigns go
    to the pool that decided the lead, as the SLA watcher sends them."""
    config = make_config(
        reps=[make_rep(r, max_open=c) for r, c in zip(REPS, caps, strict=True)],
        pools=[
            {
                "id": "general",
                "members": [
                    {"rep": r, "weight": 1 if strategy == "round_robin" else w}
                    for r, w in zip(REPS[:3], weights, strict=False)
                ],
                "strategy": strategy,
                "fairness": fairness,
                "fallback": "overflow",
            },
            {"id": "overflow", "members": [{"rep": REPS[3]}]},
        ],
    )
    router = Router(config)
    status = dict.fromkeys(REPS, PresenceStatus.AVAILABLE)
    owners: dict[str, str] = {}  # open lead -> rep, the oracle's own bookkeeping
    pools: dict[str, str] = {}  # open lead -> the pool that decided it (releases go there)
    history: dict[str, tuple[str, ...]] = {}
    decisions = 0
    for step, op in enumerate(ops):
        at = T0 + step * 1000
        if op.kind == "presence":
            rep = REPS[op.pick % len(REPS)]
            status[rep] = op.status
            router.book.record(presence(rep, op.status, at_ms=at))
            continue
        if op.kind == "assign":
            lead = f"lead-{step}"
            request = make_request(lead, requested_at_ms=at, received_at_ms=at)
            excluded: tuple[str, ...] = ()
        elif not owners:
            continue
        else:
            lead = sorted(owners)[op.pick % len(owners)]
            kind = RequestKind.RELEASE if op.kind == "release" else RequestKind.REASSIGN
            excluded = history[lead]
            request = make_request(
                lead,
                pool_id=pools[lead],
                kind=kind,
                requested_at_ms=at,
                rep_id=owners[lead],
                previous_owners=excluded,
                attempt=len(excluded) + 1,
                request_id=f"r{step}",
            )
        assignment = router.decide(request)  # asserts one decision per request
        decisions += 1
        assert assignment.lead_id == lead
        if request.kind is RequestKind.RELEASE:
            assert (assignment.outcome, assignment.rep_id) == (Outcome.RELEASED, owners.pop(lead))
            continue
        owners.pop(lead, None)
        if assignment.outcome is Outcome.UNASSIGNED:
            continue
        assert assignment.rep_id is not None
        rep = assignment.rep_id
        assert status[rep] is PresenceStatus.AVAILABLE, (rep, status)
        cap = caps[REPS.index(rep)]
        assert cap is None or sum(1 for o in owners.values() if o == rep) < cap
        assert rep not in excluded, (rep, excluded)
        owners[lead], pools[lead] = rep, assignment.pool_id
        history[lead] = (*history.get(lead, ()), rep)
    # each request's inputs (itself and its fallback requests) ended in exactly one decision
    assert router.offset >= decisions
