"""Routing config -> the terms, working week and escalation targets a timer is started with."""

from __future__ import annotations

from datetime import date

from services.sla_watcher.deadlines import ALL_DAY, EscalationTarget, SlaTerms, Window
from services.sla_watcher.policies import owner_context
from tests.unit.sla_watcher.builders import MINUTE
from tests.unit.sla_watcher.config_builders import make_config


def test_pool_policy_becomes_the_timers_terms() -> None:
    context = owner_context(make_config(), "inside", "ann")
    assert context.terms == SlaTerms(
        policy_id="fast",
        first_touch_ms=5 * MINUTE,
        notify_fractions=(0.5,),
        max_reassignments=2,
        escalate_to=EscalationTarget.MANAGER,
    )
    assert (context.manager_id, context.fallback_pool_id) == ("maria", "global")


def test_policy_without_reassignment_escalates_at_the_first_missed_deadline() -> None:
    config = make_config(
        {"reassign": False, "escalate": {"after_reassignments": 3, "to": "fallback"}}
    )
    terms = owner_context(config, "inside", "ann").terms
    assert terms is not None
    assert (terms.max_reassignments, terms.escalate_to) == (0, EscalationTarget.FALLBACK)


def test_owners_working_week_comes_from_their_hours_zone_and_holidays() -> None:
    doc_reps = make_config().reps
    reps = [r.model_dump(by_alias=True) for r in doc_reps]
    reps[0]["holidays"] = ["2026-12-24"]
    week = owner_context(make_config(reps=reps), "inside", "ann").week
    assert week is not None
    assert week.time_zone == "Europe/Berlin"
    assert week.windows == tuple(Window(day, 9 * 3600, 17 * 3600) for day in range(5))
    assert week.holidays == frozenset({date(2026, 12, 24)})


def test_rep_without_hours_works_around_the_clock() -> None:
    week = owner_context(make_config(), "global", "zoe").week
    assert week is not None and week.windows == ALL_DAY and week.time_zone == "Asia/Tokyo"


def test_rep_without_a_manager_escalates_to_the_pools_manager() -> None:
    assert owner_context(make_config(), "global", "zoe").manager_id == "tom"
    assert owner_context(make_config(), "inside", None).manager_id == "tom"


def test_pool_without_policy_or_unknown_to_the_config_is_untimed() -> None:
    assert owner_context(make_config(), "global", "zoe").terms is None
    assert owner_context(make_config(), "no-such-pool", "ann").terms is None
    assert owner_context(None, "inside", "ann").terms is None
