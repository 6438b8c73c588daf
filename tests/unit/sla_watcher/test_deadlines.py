"""Business-hours arithmetic in an owner's time zone: weekends, holidays, DST, zones."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.sla_watcher.deadlines import (
    ALL_DAY,
    SECONDS_PER_DAY,
    SlaTerms,
    Window,
    WorkingWeek,
    add_business_time,
    business_time_between,
    is_due,
    open_intervals,
    plan_deadlines,
)
from tests.unit.sla_watcher.builders import HOUR, MINUTE, make_terms, office_week


def at(text: str, zone: str = "Europe/Berlin") -> int:
    """Epoch ms of a local wall-clock time, `2026-06-01 10:00`."""
    local = datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))
    return int(local.timestamp() * 1000)


def local(ms: int, zone: str = "Europe/Berlin") -> str:
    return datetime.fromtimestamp(ms / 1000, ZoneInfo(zone)).strftime("%a %Y-%m-%d %H:%M")


def test_budget_inside_one_working_day_ends_the_same_day() -> None:
    deadline = add_business_time(at("2026-06-01 10:00"), 2 * HOUR, office_week())
    assert local(deadline) == "Mon 2026-06-01 12:00"


def test_clock_pauses_overnight() -> None:
    deadline = add_business_time(at("2026-06-02 16:30"), 1 * HOUR, office_week())
    assert local(deadline) == "Wed 2026-06-03 09:30"


def test_clock_pauses_over_the_weekend() -> None:
    deadline = add_business_time(at("2026-06-05 16:00"), 2 * HOUR, office_week())
    assert local(deadline) == "Mon 2026-06-08 10:00"


def test_assignment_on_a_saturday_starts_counting_on_monday_morning() -> None:
    deadline = add_business_time(at("2026-06-06 11:00"), 5 * MINUTE, office_week())
    assert local(deadline) == "Mon 2026-06-08 09:05"


def test_assignment_before_opening_starts_counting_at_opening() -> None:
    deadline = add_business_time(at("2026-06-01 06:12"), 30 * MINUTE, office_week())
    assert local(deadline) == "Mon 2026-06-01 09:30"


def test_holiday_is_skipped_like_a_weekend_day() -> None:
    whit_monday = frozenset({date(2026, 5, 25)})
    deadline = add_business_time(
        at("2026-05-22 16:00"), 2 * HOUR, office_week(holidays=whit_monday)
    )
    assert local(deadline) == "Tue 2026-05-26 10:00"


def test_same_instant_gives_each_owner_a_deadline_in_their_own_hours() -> None:
    assigned = at("2026-06-01 10:00")  # 08:00 UTC: 04:00 in New York, 17:00 in Tokyo
    berlin = add_business_time(assigned, HOUR, office_week("Europe/Berlin"))
    new_york = add_business_time(assigned, HOUR, office_week("America/New_York"))
    tokyo = add_business_time(assigned, HOUR, office_week("Asia/Tokyo"))
    assert local(berlin) == "Mon 2026-06-01 11:00"
    assert local(new_york, "America/New_York") == "Mon 2026-06-01 10:00"
    assert local(tokyo, "Asia/Tokyo") == "Tue 2026-06-02 10:00"


def test_office_hours_stay_wall_clock_across_spring_forward() -> None:
    # Berlin moves from CET to CEST in the night to Sunday 2026-03-29.
    deadline = add_business_time(at("2026-03-27 16:00"), 2 * HOUR, office_week())
    assert local(deadline) == "Mon 2026-03-30 10:00"


def test_office_hours_stay_wall_clock_across_fall_back() -> None:
    # Back to CET in the night to Sunday 2026-10-25; New York follows a week later.
    deadline = add_business_time(at("2026-10-23 16:00"), 2 * HOUR, office_week())
    assert local(deadline) == "Mon 2026-10-26 10:00"
    ny = office_week("America/New_York")
    deadline = add_business_time(at("2026-10-30 16:00", "America/New_York"), 2 * HOUR, ny)
    assert local(deadline, "America/New_York") == "Mon 2026-11-02 10:00"


def test_a_night_window_is_an_hour_shorter_on_the_spring_forward_day() -> None:
    sundays = WorkingWeek("Europe/Berlin", (Window(6, 0, 6 * 3600),))
    start = at("2026-03-29 00:00")
    assert business_time_between(start, at("2026-03-29 06:00"), sundays) == 5 * HOUR
    deadline = add_business_time(start, 6 * HOUR, sundays)
    assert local(deadline) == "Sun 2026-04-05 01:00"


def test_a_night_window_is_an_hour_longer_on_the_fall_back_day() -> None:
    sundays = WorkingWeek("Europe/Berlin", (Window(6, 0, 6 * 3600),))
    start = at("2026-10-25 00:00")
    deadline = add_business_time(start, 6 * HOUR + 30 * MINUTE, sundays)
    assert local(deadline) == "Sun 2026-10-25 05:30"
    assert deadline - start == 6 * HOUR + 30 * MINUTE


def test_around_the_clock_counts_real_time_through_the_dst_gap() -> None:
    always = WorkingWeek("Europe/Berlin", ALL_DAY)
    deadline = add_business_time(at("2026-03-29 00:00"), 4 * HOUR, always)
    assert local(deadline) == "Sun 2026-03-29 05:00"


def test_no_working_week_means_the_clock_never_pauses() -> None:
    start = at("2026-06-06 23:00")
    assert add_business_time(start, 5 * MINUTE, None) == start + 5 * MINUTE


def test_window_until_midnight_continues_into_the_next_days_window() -> None:
    shifts = WorkingWeek("UTC", (Window(0, 22 * 3600, SECONDS_PER_DAY), Window(1, 0, 2 * 3600)))
    deadline = add_business_time(at("2026-06-01 23:00", "UTC"), 2 * HOUR, shifts)
    assert local(deadline, "UTC") == "Tue 2026-06-02 01:00"


@pytest.mark.parametrize(
    ("week", "message"),
    [
        (lambda: WorkingWeek("Mars/Olympus", ALL_DAY), "not an IANA zone name"),
        (lambda: WorkingWeek("UTC", ()), "at least one window"),
        (lambda: WorkingWeek("UTC", (Window(0, 0, 7200), Window(0, 3600, 9000))), "overlap"),
        (lambda: Window(7, 0, 60), "weekday must be 0"),
        (lambda: Window(0, 600, 600), "start before it ends"),
    ],
)
def test_invalid_working_weeks_are_refused_with_the_reason(week: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        week()  # type: ignore[operator]


def test_plan_puts_notify_steps_at_their_fraction_of_business_time() -> None:
    terms = make_terms(first_touch_ms=4 * HOUR, notify_fractions=(0.25, 0.75), business_hours=True)
    plan = plan_deadlines(at("2026-06-05 15:00"), terms, office_week())
    assert [local(n) for n in plan.notify_due_ms] == [
        "Fri 2026-06-05 16:00",
        "Mon 2026-06-08 10:00",
    ]
    assert local(plan.deadline_ms) == "Mon 2026-06-08 11:00"


def test_plan_ignores_working_hours_when_the_policy_counts_calendar_time() -> None:
    terms = make_terms(first_touch_ms=4 * HOUR, business_hours=False)
    plan = plan_deadlines(at("2026-06-05 15:00"), terms, office_week())
    assert local(plan.deadline_ms) == "Fri 2026-06-05 19:00"


def test_step_is_due_only_after_the_grace_period() -> None:
    assert not is_due(due_ms=1_000, now_ms=2_999, grace_ms=2_000)
    assert is_due(due_ms=1_000, now_ms=3_000, grace_ms=2_000)


@pytest.mark.parametrize(
    "fields",
    [{"first_touch_ms": 0}, {"notify_fractions": (0.5, 0.2)}, {"notify_fractions": (1.0,)},
     {"max_reassignments": -1}],
)  # fmt: skip
def test_invalid_terms_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        make_terms(**fields)


ZONES = st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney"])
INSTANTS = st.integers(min_value=at("2026-01-01 00:00", "UTC"), max_value=at("2027-12-31 00:00"))
BUDGETS = st.integers(min_value=0, max_value=40 * HOUR)


@given(zone=ZONES, start=INSTANTS, budget=BUDGETS)
def test_business_time_from_start_to_deadline_equals_the_budget(
    zone: str, start: int, budget: int
) -> None:
    week = office_week(zone)
    deadline = add_business_time(start, budget, week)
    assert deadline >= start
    assert business_time_between(start, deadline, week) == budget


@given(zone=ZONES, start=INSTANTS, budget=st.integers(min_value=1, max_value=40 * HOUR))
def test_a_positive_budget_ends_inside_working_hours(zone: str, start: int, budget: int) -> None:
    week = office_week(zone)
    deadline = add_business_time(start, budget, week)
    opened, closed = next((o, c) for o, c in open_intervals(week, start) if c >= deadline)
    assert opened < deadline <= closed


@given(start=INSTANTS, first=BUDGETS, second=BUDGETS)
def test_a_larger_budget_never_ends_earlier(start: int, first: int, second: int) -> None:
    week = office_week()
    low, high = sorted((first, second))
    assert add_business_time(start, low, week) <= add_business_time(start, high, week)


def test_terms_default_to_calendar_time() -> None:
    assert SlaTerms("p", first_touch_ms=MINUTE).business_hours is False
