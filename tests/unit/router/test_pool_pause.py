"""A paused pool decides nothing: its leads go on as when nobody is eligible, and say why."""

from __future__ import annotations

from services.leads.events import Outcome, PresenceStatus, RequestKind
from services.router.presence import pool_key
from tests.unit.router.assign_builders import T0, Router, make_request, presence
from tests.unit.router.config_builders import make_config, make_pool, make_rep


def emea_with_overflow(fallback: str | None = "overflow") -> Router:
    config = make_config(
        reps=[make_rep("ann"), make_rep("bob"), make_rep("cat")],
        pools=[
            make_pool("emea", ("ann", "bob"), fallback=fallback),
            make_pool("overflow", ("cat",)),
        ],
        default_pool="emea",
        fallback_queue="triage-desk",
    )
    return Router(config)


def pause(router: Router, pool_id: str, at_ms: int = T0 - 1) -> None:
    router.read_presence(presence(pool_key(pool_id), PresenceStatus.AWAY, at_ms))


def resume(router: Router, pool_id: str, at_ms: int) -> None:
    router.read_presence(presence(pool_key(pool_id), PresenceStatus.AVAILABLE, at_ms))


def test_a_paused_pool_sends_its_lead_to_the_fallback_pool_with_the_trace_saying_why() -> None:
    router = emea_with_overflow()
    pause(router, "emea")
    assignment = router.decide(make_request("lead-1", pool_id="emea"))
    assert (assignment.rep_id, assignment.pool_id, assignment.requested_pool_id) == (
        "cat",
        "overflow",
        "emea",
    )
    assert [(c.pool_id, c.rep_id, c.skip_reason) for c in assignment.trace.candidates] == [
        ("emea", "ann", "pool_paused: pool emea is paused"),
        ("emea", "bob", "pool_paused: pool emea is paused"),
        ("overflow", "cat", None),
    ]
    assert assignment.trace.presence_position == (1,)


def test_a_paused_pool_without_a_fallback_pool_waits_in_the_fallback_queue() -> None:
    router = emea_with_overflow(fallback=None)
    pause(router, "emea")
    assignment = router.decide(make_request("lead-1", pool_id="emea"))
    assert assignment.outcome is Outcome.UNASSIGNED and assignment.pool_id == "triage-desk"
    assert assignment.reason == "pool emea is paused: waiting in the fallback queue triage-desk"


def test_resuming_restores_normal_routing_from_the_resume_on() -> None:
    router = emea_with_overflow()
    pause(router, "emea")
    resume(router, "emea", at_ms=T0 + 1_000)
    before = router.decide(make_request("lead-1", pool_id="emea"))
    after = router.decide(make_request("lead-2", pool_id="emea", requested_at_ms=T0 + 2_000))
    assert before.pool_id == "overflow"
    assert after.pool_id == "emea" and after.rep_id in {"ann", "bob"}


def test_a_reassign_in_a_paused_pool_frees_the_holder_and_moves_on() -> None:
    router = emea_with_overflow()
    first = router.decide(make_request("lead-1", pool_id="emea"))
    pause(router, "emea")
    moved = router.decide(
        make_request("lead-1", pool_id="emea", kind=RequestKind.REASSIGN, attempt=2,
                     requested_at_ms=T0 + 1_000)
    )  # fmt: skip
    assert (moved.rep_id, moved.pool_id) == ("cat", "overflow")
    assert first.rep_id in moved.previous_owners


def test_a_paused_pool_changes_nothing_for_another_pool() -> None:
    router = emea_with_overflow()
    pause(router, "overflow")
    assignment = router.decide(make_request("lead-1", pool_id="emea"))
    assert assignment.pool_id == "emea"
