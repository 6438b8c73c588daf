"""What publishing a new config would change, by id."""

from __future__ import annotations

from services.leads.config_diff import config_changes
from tests.unit.router.config_builders import make_config, make_pool, make_rep


def test_identical_configs_have_no_changes() -> None:
    assert config_changes(make_config(), make_config()) == []


def test_changes_are_reported_by_id_and_field() -> None:
    old = make_config()
    new = make_config(
        reps=[make_rep("bob"), make_rep("ann", max_open=12), make_rep("cy")],
        pools=[make_pool("general", ("ann", "bob", "cy"), strategy="least_loaded")],
        continuity={"dedup_window": "2h"},
    )
    assert config_changes(old, new) == [
        "+ rep cy",
        "~ rep ann: max_open None -> 12",
        "~ pool general: + member cy (weight 1)",
        "~ pool general: strategy 'round_robin' -> 'least_loaded'",
        "continuity.dedup_window: 3600000 -> 7200000",
    ]


def test_rule_order_changes_are_reported_because_first_match_wins() -> None:
    rules = [
        {"id": "a", "when": {"country": "DE"}, "pool": "general"},
        {"id": "b", "when": {"country": "AT"}, "pool": "general"},
    ]
    changes = config_changes(make_config(rules=rules), make_config(rules=rules[::-1]))
    assert changes == ["rule order (first match wins): a, b -> b, a"]


def test_a_changed_identity_fan_out_is_reported() -> None:
    changes = config_changes(make_config(), make_config(identity={"max_links_per_kind": 2}))
    assert changes == ["identity.max_links_per_kind: 1 -> 2"]
