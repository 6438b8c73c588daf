from __future__ import annotations

from dataclasses import replace
from typing import Any

from services.leads.events import PresenceStatus
from services.leads.routing_config import RoutingConfig
from services.router.app import presence_serde
from services.router.eligibility import Ask, SkipReason, Verdict, assess
from services.router.fairness import Availability
from services.router.presence import PresenceBook
from services.router.rotation import MemberStanding, RotationState
from tests.unit.router.assign_builders import T0, presence
from tests.unit.router.config_builders import make_config, make_pool, make_rep

HOUR = 3_600_000


def config_with(ann: dict[str, Any]) -> RoutingConfig:
    return make_config(reps=[make_rep("ann", **ann), make_rep("bob")])


def verdict_for_ann(
    ann: dict[str, Any] | None = None,
    *,
    book: PresenceBook | None = None,
    state: RotationState | None = None,
    ask: Ask | None = None,
) -> Verdict:
    config = config_with(ann or {})
    verdicts = assess(
        config,
        config.pool("general"),
        state or RotationState.empty("general"),
        (book or PresenceBook()).status_at,
        ask or Ask(at_ms=T0),
    )
    return next(v for v in verdicts if v.rep_id == "ann")


def test_an_available_active_rep_with_no_limits_is_eligible() -> None:
    verdict = verdict_for_ann()
    assert verdict.eligible and verdict.explain() is None
    assert verdict.contender().availability is Availability.ELIGIBLE


def test_inactive_rep_is_skipped_as_inactive() -> None:
    assert verdict_for_ann({"active": False}).skip is SkipReason.INACTIVE


def test_presence_away_and_offline_are_skipped_with_their_own_reasons() -> None:
    away = PresenceBook([presence("ann", PresenceStatus.AWAY, until_ms=T0 + HOUR)])
    verdict = verdict_for_ann(book=away)
    assert verdict.skip is SkipReason.AWAY
    assert verdict.explain() == "away: until 2025-11-24T11:00Z"
    offline = PresenceBook([presence("ann", PresenceStatus.OFFLINE)])
    assert verdict_for_ann(book=offline).skip is SkipReason.OFFLINE


def test_away_lapses_at_its_until_time_measured_at_the_request() -> None:
    book = PresenceBook([presence("ann", PresenceStatus.AWAY, until_ms=T0 + HOUR)])
    assert verdict_for_ann(book=book, ask=Ask(at_ms=T0 + HOUR)).eligible


def test_presence_is_joined_by_the_requests_time_not_arrival_order() -> None:
    book = PresenceBook(
        [
            presence("ann", PresenceStatus.AWAY, at_ms=T0 - 10 * HOUR),
            presence("ann", PresenceStatus.AVAILABLE, at_ms=T0 - HOUR),
            presence("ann", PresenceStatus.OFFLINE, at_ms=T0 + HOUR),
        ]
    )
    assert verdict_for_ann(book=book, ask=Ask(at_ms=T0)).eligible
    assert verdict_for_ann(book=book, ask=Ask(at_ms=T0 - 2 * HOUR)).skip is SkipReason.AWAY
    assert verdict_for_ann(book=book, ask=Ask(at_ms=T0 + 2 * HOUR)).skip is SkipReason.OFFLINE


def test_working_hours_are_read_in_the_reps_zone_at_the_requests_time() -> None:
    # 10:00 UTC on a Monday is 05:00 in New York: before a 09:00-17:00 day
    ny = {"time_zone": "America/New_York", "working_hours": {"mon": "09:00-17:00"}}
    assert verdict_for_ann(ny).skip is SkipReason.OFF_HOURS
    assert verdict_for_ann(ny, ask=Ask(at_ms=T0 + 5 * HOUR)).eligible  # 10:00 in New York


def test_a_local_holiday_is_skipped_as_holiday() -> None:
    verdict = verdict_for_ann({"holidays": ["2025-11-24"]})
    assert verdict.skip is SkipReason.HOLIDAY
    assert verdict.contender().availability is Availability.ABSENT


def test_max_open_counts_this_pools_open_leads() -> None:
    state = RotationState(
        pool_id="general",
        members=(MemberStanding(rep_id="ann", open=2), MemberStanding(rep_id="bob", open=1)),
    )
    verdict = verdict_for_ann({"max_open": 2}, state=state)
    assert verdict.skip is SkipReason.MAX_OPEN and verdict.detail == "2 open of 2"
    assert verdict_for_ann({"max_open": 3}, state=state).eligible


def test_daily_cap_counts_only_the_reps_local_day() -> None:
    today = MemberStanding(rep_id="ann", day="2025-11-24", day_count=2)
    state = RotationState(pool_id="general", members=(today,))
    assert verdict_for_ann({"daily_cap": 2}, state=state).skip is SkipReason.DAILY_CAP
    yesterday = RotationState(pool_id="general", members=(replace(today, day="2025-11-23"),))
    assert verdict_for_ann({"daily_cap": 2}, state=yesterday).eligible


def test_missing_skill_and_language_pass_the_rep_over_for_this_lead_only() -> None:
    skill = verdict_for_ann(
        {"skills": ["spanish-sales"]}, ask=Ask(at_ms=T0, required_skills=frozenset({"enterprise"}))
    )
    assert skill.skip is SkipReason.MISSING_SKILL and skill.detail == "enterprise"
    assert skill.contender().availability is Availability.PASSED_OVER
    language = verdict_for_ann({"languages": ["de", "en"]}, ask=Ask(at_ms=T0, language="FR"))
    assert language.skip is SkipReason.LANGUAGE
    assert verdict_for_ann({"languages": ["de"]}, ask=Ask(at_ms=T0, language="DE")).eligible
    assert verdict_for_ann(ask=Ask(at_ms=T0, language="fr")).eligible  # lists none: unrestricted


def test_previous_owner_is_skipped() -> None:
    verdict = verdict_for_ann(ask=Ask(at_ms=T0, excluded=frozenset({"ann"})))
    assert verdict.skip is SkipReason.PREVIOUS_OWNER


def test_pool_required_skills_apply_to_every_lead() -> None:
    config = make_config(
        reps=[
            make_rep("ann", skills=["enterprise"]),
            make_rep("bob", skills=["enterprise", "smb"]),
        ],
        pools=[make_pool("general", ("ann", "bob"), required_skills=["smb"])],
    )
    verdicts = assess(
        config,
        config.pool("general"),
        RotationState.empty("general"),
        PresenceBook().status_at,
        Ask(at_ms=T0),
    )
    assert [(v.rep_id, v.skip) for v in verdicts] == [
        ("ann", SkipReason.MISSING_SKILL),
        ("bob", None),
    ]


def test_before_its_first_known_presence_change_a_rep_is_available() -> None:
    book = PresenceBook([presence("ann", PresenceStatus.OFFLINE, at_ms=T0 + HOUR)])
    assert verdict_for_ann(book=book).eligible
    assert verdict_for_ann(book=book, ask=Ask(at_ms=T0 + HOUR)).skip is SkipReason.OFFLINE


def test_a_presence_record_that_does_not_decode_is_ignored_not_fatal() -> None:
    serde = presence_serde()
    good = presence("ann", PresenceStatus.AWAY)
    assert serde.decode(serde.encode(good)) == good
    assert serde.decode(b"not avro at all") is None


def test_a_new_config_is_read_afresh_not_from_the_previous_configs_roster() -> None:
    # assess keeps one roster per config object: the next config must not see the last one's
    ask, state = Ask(at_ms=T0), RotationState.empty("general")
    for active in (True, False, True):
        config = config_with({"active": active})
        verdicts = assess(config, config.pool("general"), state, PresenceBook().status_at, ask)
        assert verdicts[0].rep_id == "ann"
        assert verdicts[0].eligible is active
