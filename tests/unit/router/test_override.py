"""An operator's request (`OPERATOR_HEADER`): its reason, naming the actor, is in the
Assignment's; on an override the named member is picked whatever eligibility said, charged as
any pick, and the trace says it was an override, by whom, and what it overrode."""

from __future__ import annotations

from services.leads.events import OPERATOR_HEADER, Assignment, PresenceStatus, RequestKind
from services.router.presence import pool_key
from tests.unit.router.assign_builders import ASSIGNMENTS, T0, TOPICS, Router, make_request
from tests.unit.router.assign_builders import presence as presence_change
from tests.unit.router.config_builders import make_config, make_pool, make_rep

OVERRIDE = ((OPERATOR_HEADER, b"override"),)


def two_reps() -> Router:
    config = make_config(
        reps=[make_rep("ann"), make_rep("bob")],
        pools=[make_pool("emea", ("ann", "bob"))],
        default_pool="emea",
    )
    return Router(config)


def to_bob(router: Router, headers: tuple[tuple[str, bytes], ...]) -> Assignment:
    request = make_request(
        "lead-1", pool_id="emea", kind=RequestKind.REASSIGN, attempt=2, rep_id="ann",
        preferred_owner="bob", reason="console: olga: speaks Finnish",
        requested_at_ms=T0 + 1_000,
    )  # fmt: skip
    [out] = [o for o in router.send(request, headers) if o.topic == TOPICS.assignments]
    return ASSIGNMENTS.decode(out.value)


def test_an_override_picks_the_named_rep_the_rules_would_skip_and_says_so() -> None:
    router = two_reps()
    router.decide(make_request("lead-1", pool_id="emea", preferred_owner="ann"))
    router.read_presence(presence_change("bob", PresenceStatus.AWAY))
    assignment = to_bob(router, OVERRIDE)
    assert assignment.rep_id == "bob"
    assert (
        assignment.reason
        == "assigned to bob in pool emea (override by console: olga: speaks Finnish)"
    )
    lines = {c.rep_id: c.skip_reason for c in assignment.trace.candidates}
    assert lines == {
        "ann": "previous_owner: owned this lead before",
        "bob": "override: away: until further notice",
    }


MANUAL = ((OPERATOR_HEADER, b"manual"),)


def test_a_manual_request_names_its_actor_in_the_assignment() -> None:
    router = two_reps()
    router.decide(make_request("lead-1", pool_id="emea", preferred_owner="ann"))
    assignment = to_bob(router, MANUAL)
    assert assignment.rep_id == "bob"
    assert assignment.reason == (
        "assigned to bob in pool emea (preferred owner; manual: console: olga: speaks Finnish)"
    )


def test_a_manual_request_still_passes_the_away_rep_over() -> None:
    router = two_reps()
    router.decide(make_request("lead-1", pool_id="emea", preferred_owner="ann"))
    router.read_presence(presence_change("bob", PresenceStatus.AWAY))
    assert to_bob(router, MANUAL).rep_id is None


def test_without_the_header_the_same_request_passes_the_away_rep_over() -> None:
    router = two_reps()
    router.decide(make_request("lead-1", pool_id="emea", preferred_owner="ann"))
    router.read_presence(presence_change("bob", PresenceStatus.AWAY))
    assignment = to_bob(router, ())
    assert assignment.rep_id is None


def test_an_override_goes_through_a_paused_pool() -> None:
    router = two_reps()
    router.decide(make_request("lead-1", pool_id="emea", preferred_owner="ann"))
    router.read_presence(presence_change(pool_key("emea"), PresenceStatus.AWAY))
    assert to_bob(router, OVERRIDE).rep_id == "bob"
