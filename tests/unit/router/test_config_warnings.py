"""Warnings: a valid config that routes, but probably not as its author meant."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.cli.__main__ import main
from services.leads.config_warnings import config_warnings
from tests.unit.router.config_builders import make_config, make_pool, make_rep


def warnings_of(**overrides: object) -> list[str]:
    return [str(w) for w in config_warnings(make_config(**overrides))]


def test_a_tidy_config_has_no_warnings() -> None:
    assert warnings_of() == []


def test_rules_after_a_catch_all_are_never_reached() -> None:
    rules = [
        {"id": "de", "when": {"country": "DE"}, "pool": "general"},
        {"id": "all", "pool": "general"},
        {"id": "fr", "when": {"country": "FR"}, "pool": "general"},
    ]
    assert warnings_of(rules=rules) == [
        "rules[2]: never reached: rule 'all' before it matches every lead"
    ]


def test_reps_in_no_pool_and_pools_nothing_leads_to_are_named() -> None:
    found = warnings_of(
        reps=[make_rep("ann"), make_rep("bob"), make_rep("cy")],
        pools=[make_pool("general", ("ann",)), make_pool("island", ("bob",))],
    )
    assert found == [
        "reps[2]: in no pool: this rep never receives leads",
        "pools[1]: no rule, default_pool or fallback leads here: only continuity can",
    ]


def test_a_pool_of_inactive_reps_says_where_its_leads_go() -> None:
    found = warnings_of(reps=[make_rep("ann", active=False), make_rep("bob", active=False)])
    assert found == [
        "pools[0].members: every member is inactive: each lead goes straight to 'unassigned'"
    ]


def test_unused_sla_policies_are_named() -> None:
    assert warnings_of(sla_policies=[{"id": "spare", "first_touch": "5m"}]) == [
        "sla_policies[0]: no pool uses this SLA policy"
    ]


def test_warnings_print_with_lines_but_do_not_fail_validation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(
        "reps:\n"
        "  - {id: ann, name: Ann, email: a@example.com}\n"
        "  - {id: bob, name: Bob, email: b@example.com}\n"
        "pools:\n"
        "  - {id: general, members: [{rep: ann}]}\n"
        "default_pool: general\n"
    )
    assert main(["config", "validate", str(path)]) == 0
    assert capsys.readouterr().err == (
        f"warning: {path}:3: reps[1]: in no pool: this rep never receives leads\n"
    )
