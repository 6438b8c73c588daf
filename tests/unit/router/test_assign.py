from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.leads.events import Outcome, PresenceStatus, RequestKind
from services.router.owner_facts import owner_fact_serde
from services.router.rotation import MemberStanding, OpenLead, RotationState
from services.router.rotation_serde import rotation_serde
from services.streaming.cloudevents import header
from services.streaming.errors import DecodeError
from services.streaming.records import InputRecord
from tests.unit.router.assign_builders import (
    ASSIGNMENTS,
    REQUESTS,
    TOPICS,
    Router,
    make_request,
    presence,
)
from tests.unit.router.config_builders import make_config, make_pool, make_rep


def three_reps(**pool: object) -> Router:
    config = make_config(
        reps=[make_rep("ann"), make_rep("bob"), make_rep("cat")],
        pools=[make_pool("general", ("ann", "bob", "cat"), **pool)],
    )
    return Router(config)


def test_an_assign_request_yields_one_assignment_keyed_by_lead_with_cloudevents_headers() -> None:
    router = three_reps()
    outputs = router.send(make_request("lead-1"))
    [event] = [o for o in outputs if o.topic == TOPICS.assignments]
    assignment = ASSIGNMENTS.decode(event.value)
    assert event.key == b"lead-1"
    assert assignment.outcome is Outcome.ASSIGNED and assignment.rep_id == "ann"
    assert assignment.assignment_id == "asg:req-lead-1-assign-1"
    headers = list(event.headers)
    assert header(headers, "ce_id") == b"asg:req-lead-1-assign-1"
    assert header(headers, "ce_subject") == b"lead-1"
    assert header(headers, "ce_type") == b"io.leadrouter.assignment.assigned"


def test_the_trace_names_version_strategy_candidates_and_the_input_position() -> None:
    router = three_reps(strategy="weighted", fairness="catch_up")
    router.book.record(presence("bob", PresenceStatus.AWAY))
    router.send(make_request("lead-0"))
    assignment = router.decide(make_request("lead-1", rule_id="emea", score=40))
    trace = assignment.trace
    assert (trace.config_version, trace.config_hash) == (1, "hash-1")
    assert (trace.rule_id, trace.score) == ("emea", 40)
    assert (trace.strategy, trace.fairness_policy) == ("weighted", "catch_up")
    assert (trace.input_topic, trace.input_partition, trace.input_offset) == (TOPICS.requests, 0, 1)
    assert [(c.rep_id, c.skip_reason) for c in trace.candidates] == [
        ("ann", None),
        ("bob", "away: until further notice"),
        ("cat", None),
    ]
    assert trace.chosen_rep == "cat" == assignment.rep_id
    assert all(c.credit is not None for c in trace.candidates)


def test_an_assigned_lead_writes_owner_facts_for_person_and_account() -> None:
    outputs = three_reps().send(make_request("lead-1"))
    facts = [owner_fact_serde().decode(o.value or b"") for o in outputs if o.topic == TOPICS.owners]
    assert sorted(f.subject for f in facts) == ["account:acme.example", "person:person-lead-1"]
    assert {f.rep_id for f in facts} == {"ann"}


def test_the_lead_goes_on_as_it_came_and_every_output_encodes_as_its_value_would() -> None:
    # assign writes the request's lead bytes into its outputs instead of encoding the lead
    config = make_config(
        reps=[make_rep("ann"), make_rep("cat")],
        pools=[make_pool("emea", ("ann",), fallback="overflow"), make_pool("overflow", ("cat",))],
        default_pool="emea",
    )
    router = Router(config)
    router.book.record(presence("ann", PresenceStatus.OFFLINE))
    request = make_request("lead-1", pool_id="emea")
    [onward] = router.send(request)
    passed_on = REQUESTS.decode(onward.value)
    assert passed_on.lead == request.lead
    assert REQUESTS.encode(passed_on) == onward.value
    [event] = [o for o in router.send(passed_on) if o.topic == TOPICS.assignments]
    assignment = ASSIGNMENTS.decode(event.value)
    assert assignment.lead == request.lead and assignment.rep_id == "cat"
    assert ASSIGNMENTS.encode(assignment) == event.value


def test_an_eligible_preferred_owner_wins() -> None:
    assignment = three_reps().decide(make_request("lead-1", preferred_owner="cat"))
    assert assignment.rep_id == "cat" and "preferred owner" in assignment.reason


def test_nobody_eligible_goes_to_the_fallback_pool_with_one_trace_across_both() -> None:
    config = make_config(
        reps=[make_rep("ann"), make_rep("bob"), make_rep("cat")],
        pools=[
            make_pool("emea", ("ann", "bob"), fallback="overflow"),
            make_pool("overflow", ("cat",)),
        ],
        default_pool="emea",
    )
    router = Router(config)
    router.book.record(presence("ann", PresenceStatus.OFFLINE))
    router.book.record(presence("bob", PresenceStatus.AWAY))
    [onward] = router.send(make_request("lead-1", pool_id="emea"))
    assert onward.topic == TOPICS.requests and onward.key == b"overflow"
    request = REQUESTS.decode(onward.value)
    assert request.pools_tried == ("emea",) and request.request_id == "req-lead-1-assign-1"
    assignment = router.decide(request)
    assert (assignment.rep_id, assignment.pool_id, assignment.requested_pool_id) == (
        "cat",
        "overflow",
        "emea",
    )
    assert assignment.trace.pools_tried == ("emea", "overflow")
    assert [(c.pool_id, c.rep_id, c.skip_reason is None) for c in assignment.trace.candidates] == [
        ("emea", "ann", False),
        ("emea", "bob", False),
        ("overflow", "cat", True),
    ]


def test_a_spent_fallback_chain_emits_an_unassigned_decision_to_the_fallback_queue() -> None:
    config = make_config(
        reps=[make_rep("ann"), make_rep("bob")],
        pools=[make_pool("a", ("ann",), fallback="b"), make_pool("b", ("bob",))],
        default_pool="a",
        fallback_queue="triage-desk",
    )
    router = Router(config)
    router.book.record(presence("ann", PresenceStatus.OFFLINE))
    router.book.record(presence("bob", PresenceStatus.OFFLINE))
    assignment = router.decide(make_request("lead-1", pool_id="a"))
    assert assignment.outcome is Outcome.UNASSIGNED and assignment.rep_id is None
    assert assignment.pool_id == "triage-desk" and assignment.requested_pool_id == "a"
    assert assignment.reason == "nobody eligible in pools a, b: 2 offline"


def test_release_frees_capacity_once_and_is_idempotent() -> None:
    config = make_config(reps=[make_rep("ann", max_open=1), make_rep("bob", max_open=1)])
    router = Router(config)
    assert router.decide(make_request("l1")).rep_id == "ann"
    assert router.decide(make_request("l2")).rep_id == "bob"
    assert router.decide(make_request("l3")).outcome is Outcome.UNASSIGNED
    release = make_request("l1", kind=RequestKind.RELEASE, lead=None, rep_id="ann")
    assert router.store.get(0, "general/l1") == OpenLead(
        pool_id="general", lead_id="l1", rep_id="ann"
    )
    released = router.decide(release)
    assert (released.outcome, released.rep_id) == (Outcome.RELEASED, "ann")
    assert router.store.get(0, "general/l1") is None
    again = router.decide(release.model_copy(update={"request_id": "another"}))
    assert again.outcome is Outcome.RELEASED and "nothing to free" in again.reason
    assert router.decide(make_request("l4")).rep_id == "ann"
    assert router.decide(make_request("l5")).outcome is Outcome.UNASSIGNED


def test_reassign_excludes_the_previous_owners_and_frees_their_capacity() -> None:
    config = make_config(reps=[make_rep("ann", max_open=1), make_rep("bob")])
    router = Router(config)
    assert router.decide(make_request("l1")).rep_id == "ann"
    reassign = make_request(
        "l1", kind=RequestKind.REASSIGN, attempt=2, previous_owners=("ann",), rep_id="ann"
    )
    moved = router.decide(reassign)
    assert (moved.kind, moved.rep_id, moved.attempt) == (RequestKind.REASSIGN, "bob", 2)
    # ann's one slot came back: as preferred owner she is eligible again
    assert router.decide(make_request("l2", preferred_owner="ann")).rep_id == "ann"


def test_a_repeated_assign_for_an_open_lead_returns_the_same_owner_without_a_turn() -> None:
    router = three_reps()
    first = router.decide(make_request("l1"))
    again = router.decide(make_request("l1").model_copy(update={"request_id": "dup"}))
    assert again.rep_id == first.rep_id == "ann"
    assert router.decide(make_request("l2")).rep_id == "bob"


def test_a_pool_missing_from_the_config_is_an_unassigned_decision_not_a_drop() -> None:
    assignment = three_reps().decide(make_request("l1", pool_id="gone"))
    assert assignment.outcome is Outcome.UNASSIGNED
    assert assignment.reason == "pool 'gone' is not in routing config version 1"


def test_undecodable_bytes_raise_a_permanent_error_for_the_dead_letter_topic() -> None:
    router = three_reps()
    record = InputRecord(TOPICS.requests, 0, 0, b"general", b"not avro", 0)
    with pytest.raises(DecodeError):
        router.handler.handle(record)


def test_the_same_requests_give_byte_identical_outputs() -> None:
    requests = [
        make_request(f"l{i}", preferred_owner="cat" if i % 4 == 0 else None) for i in range(20)
    ]

    def run() -> list[tuple[bytes | None, bytes | None]]:
        router = three_reps(strategy="weighted")
        return [(o.key, o.value) for r in requests for o in router.send(r)]

    assert run() == run()


def test_a_config_switch_applies_to_the_next_request_and_is_recorded() -> None:
    router = three_reps()
    assert router.decide(make_request("l1")).trace.config_version == 1
    router.version, router.config = (
        2,
        make_config(
            reps=[make_rep("ann"), make_rep("bob"), make_rep("cat")],
            pools=[make_pool("general", ("cat",))],
        ),
    )
    assignment = router.decide(make_request("l2"))
    assert (assignment.trace.config_version, assignment.rep_id) == (2, "cat")


def test_rotation_records_of_both_kinds_round_trip_through_one_serde() -> None:
    serde = rotation_serde()
    state = RotationState(pool_id="general", decisions=3)
    lead = OpenLead(pool_id="general", lead_id="l1", rep_id="ann")
    assert serde.decode(serde.encode(state)) == state
    assert serde.decode(serde.encode(lead)) == lead


@settings(max_examples=50, deadline=None)
@given(
    members=st.lists(
        st.builds(
            MemberStanding,
            rep_id=st.text("abcdefgh", min_size=1, max_size=8),
            credit=st.integers(-(2**40), 2**40),
            assigned=st.integers(0, 2**40),
            last_assigned_seq=st.integers(-1, 2**40),
            day=st.sampled_from(["", "2026-11-23"]),
            day_count=st.integers(0, 10_000),
            open=st.integers(0, 10_000),
        ),
        max_size=6,
    ),
    decisions=st.integers(0, 2**40),
)
def test_any_rotation_state_survives_the_state_topic_unchanged(
    members: list[MemberStanding], decisions: int
) -> None:
    state = RotationState(pool_id="p", decisions=decisions, members=tuple(members))
    assert rotation_serde().decode(rotation_serde().encode(state)) == state


def test_a_quick_repeat_keeps_the_owner_of_the_lead_it_repeats() -> None:
    router = three_reps()
    first = router.decide(make_request("lead-1"))
    repeat = router.decide(make_request("lead-2", repeat_of="lead-1", is_repeat=True))
    assert first.rep_id == "ann"
    assert repeat.rep_id == "ann"  # without the repeat link it would be bob's turn
    assert "preferred owner" in repeat.reason


def test_a_repeat_of_a_closed_lead_takes_an_ordinary_turn() -> None:
    router = three_reps()
    router.decide(make_request("lead-1"))
    router.send(make_request("lead-1", kind=RequestKind.RELEASE, rep_id="ann", lead=None))
    repeat = router.decide(make_request("lead-2", repeat_of="lead-1", is_repeat=True))
    assert repeat.rep_id == "bob"


def test_a_repeat_never_overrides_the_owner_triage_already_chose() -> None:
    router = three_reps()
    router.decide(make_request("lead-1"))
    repeat = router.decide(make_request("lead-2", repeat_of="lead-1", preferred_owner="cat"))
    assert repeat.rep_id == "cat"
