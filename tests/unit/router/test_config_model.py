"""The routing config model: what it accepts, what it refuses, and how it says so."""

from __future__ import annotations

from typing import Any

import pytest

from services.leads.config_errors import ConfigInvalid, format_path
from services.leads.routing_config import RoutingConfig, Strategy, parse_routing_config
from tests.unit.router.config_builders import make_config, make_doc, make_pool, make_rep


def problems_of(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigInvalid) as caught:
        parse_routing_config(doc)
    return [str(p) for p in caught.value.problems]


def test_a_minimal_document_gets_sensible_defaults() -> None:
    config = make_config()
    assert config.pool("general").strategy is Strategy.ROUND_ROBIN
    assert config.continuity.dedup_window_ms == 3_600_000
    assert config.rep("ann").active is True
    assert config.fallback_queue == "unassigned"


def test_paths_read_like_the_document() -> None:
    assert format_path(("pools", 2, "members", 0, "rep")) == "pools[2].members[0].rep"
    assert format_path(()) == "(document)"


def test_unknown_member_rep_names_the_path_and_the_known_reps() -> None:
    doc = make_doc(pools=[make_pool("general", ("ann", "zed"))])
    assert problems_of(doc) == ["pools[0].members[1].rep: unknown rep 'zed' (known: ann, bob)"]


def test_every_problem_is_reported_at_once() -> None:
    doc = make_doc(
        reps=[make_rep("ann", time_zone="Mars/Olympus"), make_rep("bob", max_open=0)],
        default_pool="nowhere",
    )
    found = problems_of(doc)
    assert len(found) == 2  # field problems first; references are checked once fields are valid
    assert found[0].startswith("reps[0].time_zone: unknown time zone 'Mars/Olympus'")
    assert found[1] == "reps[1].max_open: Input should be greater than or equal to 1, got 0"


def test_misspelt_keys_are_refused_not_ignored() -> None:
    doc = make_doc(reps=[make_rep("ann", max_opne=3), make_rep("bob")])
    assert problems_of(doc) == [
        "reps[0].max_opne: unknown field (check the spelling against docs/routing.md)"
    ]


@pytest.mark.parametrize("weight", [0, -1])
def test_weights_must_be_positive(weight: int) -> None:
    pool = make_pool("general", ("ann",), strategy="weighted")
    pool["members"][0]["weight"] = weight
    assert problems_of(make_doc(pools=[pool])) == [
        f"pools[0].members[0].weight: Input should be greater than 0, got {weight}"
    ]


def test_round_robin_refuses_weights_it_would_ignore() -> None:
    pool = make_pool("general", ("ann", "bob"))
    pool["members"][1]["weight"] = 3
    assert problems_of(make_doc(pools=[pool]))[0].startswith(
        "pools[0].members[1].weight: strategy round_robin gives every member equal turns"
    )


def test_fallback_cycles_are_refused_once_with_the_whole_loop() -> None:
    doc = make_doc(
        pools=[
            make_pool("a", fallback="b"),
            make_pool("b", fallback="c"),
            make_pool("c", fallback="a"),
        ],
        default_pool="a",
    )
    assert problems_of(doc) == [
        "pools[0].fallback: fallback cycle a -> b -> c -> a: a lead nobody takes would never leave"
    ]


def test_a_fallback_chain_ends() -> None:
    config = make_config(
        pools=[
            make_pool("a", fallback="b"),
            make_pool("b", fallback="c"),
            make_pool("c"),
        ],
        default_pool="a",
    )
    assert config.fallback_chain("a") == ("a", "b", "c")


def test_references_to_unknown_things_are_each_named() -> None:
    doc = make_doc(
        reps=[make_rep("ann", manager="boss", working_hours="office"), make_rep("bob")],
        pools=[make_pool("general", ("ann", "bob"), sla_policy="fast", fallback="spare")],
        rules=[{"id": "dach", "when": {"territory": ["dach"]}, "pool": "emea"}],
    )
    assert problems_of(doc) == [
        "reps[0].manager: unknown manager 'boss' (known: ann, bob)",
        "reps[0].working_hours: unknown schedule 'office'",
        "pools[0].fallback: unknown pool 'spare' (known: general)",
        "pools[0].sla_policy: unknown SLA policy 'fast'",
        "rules[0].when.territory[0]: unknown territory 'dach'",
        "rules[0].pool: unknown pool 'emea' (known: general)",
    ]


def test_duplicate_ids_point_at_the_second_one() -> None:
    doc = make_doc(reps=[make_rep("ann"), make_rep("bob"), make_rep("ann")])
    assert problems_of(doc) == ["reps[2].id: duplicate rep id 'ann'"]


def test_a_pool_no_member_can_serve_is_refused() -> None:
    doc = make_doc(pools=[make_pool("general", ("ann", "bob"), required_skills=["Enterprise"])])
    assert problems_of(doc) == [
        "pools[0].required_skills: no member has every required skill ['enterprise']: "
        "the pool could never assign"
    ]


def test_skills_and_languages_compare_case_insensitively() -> None:
    config = make_config(
        reps=[make_rep("ann", skills=["Enterprise", "enterprise"], languages=["DE"])],
        pools=[make_pool("general", ("ann",), required_skills=["ENTERPRISE"])],
    )
    assert config.rep("ann").skills == ("enterprise",)
    assert config.rep("ann").languages == ("de",)


def test_manager_escalation_needs_someone_to_escalate_to() -> None:
    policy = {"id": "std", "first_touch": "5m", "escalate": {"to": "manager"}}
    doc = make_doc(sla_policies=[policy], pools=[make_pool("general", sla_policy="std")])
    assert problems_of(doc)[0].startswith(
        "pools[0].manager: SLA policy 'std' escalates to a manager, but ['ann'] have none"
    )
    managed = make_doc(
        sla_policies=[policy],
        managers=[{"id": "mia", "name": "Mia"}],
        pools=[make_pool("general", sla_policy="std", manager="mia")],
    )
    config = parse_routing_config(managed)
    assert config.escalation_manager("general", "ann") == "mia"


def test_fallback_escalation_needs_a_fallback_pool() -> None:
    policy = {"id": "std", "first_touch": "5m", "escalate": {"to": "fallback"}}
    doc = make_doc(sla_policies=[policy], pools=[make_pool("general", sla_policy="std")])
    assert problems_of(doc) == [
        "pools[0].fallback: SLA policy 'std' escalates to the fallback pool, but this pool has none"
    ]


@pytest.mark.parametrize(
    ("written", "ms"),
    [
        ("90s", 90_000),
        ("5m", 300_000),
        ("1h30m", 5_400_000),
        (300, 300_000),
        ("250ms", 250),
        ("2d", 172_800_000),
    ],
)
def test_durations_read_the_way_people_write_them(written: object, ms: int) -> None:
    config = make_config(sla_policies=[{"id": "std", "first_touch": written}])
    assert config.sla_policy("std").first_touch_ms == ms


def test_notify_fractions_must_lie_inside_the_deadline_in_order() -> None:
    doc = make_doc(sla_policies=[{"id": "std", "first_touch": "5m", "notify_at": [0.8, 0.5]}])
    assert problems_of(doc) == [
        "sla_policies[0].notify_at: expected increasing fractions without repeats, got (0.8, 0.5)"
    ]


def test_an_empty_condition_list_is_an_error_not_a_rule_that_never_matches() -> None:
    doc = make_doc(rules=[{"id": "r", "when": {"country": []}, "pool": "general"}])
    assert problems_of(doc) == [
        "rules[0].when.country: an empty list matches no lead: list values or leave the field out"
    ]


def test_scoring_cannot_depend_on_the_score() -> None:
    rule = {"id": "s", "when": {"score": {"min": 10}}, "points": 5}
    assert problems_of(make_doc(scoring={"rules": [rule]})) == [
        "scoring.rules[0].when.score: a scoring rule cannot depend on the score it is computing"
    ]


def test_the_model_is_frozen() -> None:
    config = make_config()
    with pytest.raises(Exception, match="frozen"):
        config.default_pool = "other"  # type: ignore[misc]
    assert isinstance(config, RoutingConfig)


def test_emails_are_checked_because_notifications_go_there() -> None:
    doc = make_doc(reps=[make_rep("ann", email="ann.example.com"), make_rep("bob")])
    assert problems_of(doc) == [
        "reps[0].email: expected an email address like 'ann@example.com', got 'ann.example.com'"
    ]
