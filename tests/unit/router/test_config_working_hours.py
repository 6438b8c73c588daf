"""Working hours in the rep's own zone: weekdays, holidays, daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.leads.config_errors import ConfigInvalid
from tests.unit.router.config_builders import make_config, make_pool, make_rep


def at(text: str) -> int:
    """Epoch ms of a UTC time written `2026-03-27 08:30`."""
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp() * 1000)


BERLIN = make_config(
    reps=[
        make_rep(
            "lena",
            time_zone="Europe/Berlin",
            working_hours={"mon": "09:00-17:00", "fri": ["09:00-12:00", "13:00-17:00"]},
            holidays=["2026-12-25"],
        )
    ],
    pools=[make_pool("general", ("lena",))],
)


@pytest.mark.parametrize(
    ("utc", "working"),
    [
        ("2026-03-27 07:59", False),  # Friday 08:59 CET: before the day starts
        ("2026-03-27 08:00", True),  # Friday 09:00 CET
        ("2026-03-27 11:30", False),  # Friday 12:30 CET: lunch
        ("2026-03-27 15:59", True),  # Friday 16:59 CET
        ("2026-03-27 16:00", False),  # Friday 17:00 CET: the end is exclusive
        ("2026-03-28 10:00", False),  # Saturday: not listed, a day off
    ],
)
def test_hours_are_local_wall_clock(utc: str, working: bool) -> None:
    assert BERLIN.is_working("lena", at(utc)) is working


def test_hours_stay_local_across_the_spring_change() -> None:
    # Berlin moves to CEST on Sunday 2026-03-29: Monday 09:00 local is 07:00 UTC, not 08:00.
    assert BERLIN.is_working("lena", at("2026-03-30 07:00"))
    assert not BERLIN.is_working("lena", at("2026-03-30 06:59"))
    assert not BERLIN.is_working("lena", at("2026-03-30 15:00"))  # 17:00 CEST


def test_hours_stay_local_across_the_autumn_change() -> None:
    # Back to CET on Sunday 2026-10-25: Monday 09:00 local is 08:00 UTC again.
    assert not BERLIN.is_working("lena", at("2026-10-26 07:30"))
    assert BERLIN.is_working("lena", at("2026-10-26 08:00"))


def test_a_holiday_is_a_local_date() -> None:
    # Friday 2026-12-25: 23:30 UTC on the 24th is already the 25th in Berlin.
    assert not BERLIN.is_working("lena", at("2026-12-25 10:00"))
    assert BERLIN.local_day("lena", at("2026-12-24 23:30")) == "2026-12-25"


def test_no_hours_means_around_the_clock_except_holidays() -> None:
    config = make_config(reps=[make_rep("ann", holidays=["2026-01-01"])], pools=[make_pool()])
    assert config.is_working("ann", at("2026-03-28 03:00"))
    assert not config.is_working("ann", at("2026-01-01 12:00"))


def test_a_range_may_end_at_midnight() -> None:
    config = make_config(
        reps=[make_rep("ann", working_hours={"sat": "20:00-24:00", "sun": "00:00-02:00"})],
        pools=[make_pool()],
    )
    assert config.is_working("ann", at("2026-03-28 23:59"))
    assert config.is_working("ann", at("2026-03-29 01:00"))
    assert not config.is_working("ann", at("2026-03-29 02:00"))


def test_named_schedules_are_shared() -> None:
    config = make_config(
        schedules={"office": {"mon": "09:00-17:00"}},
        reps=[make_rep("ann", working_hours="office")],
        pools=[make_pool()],
    )
    assert config.is_working("ann", at("2026-03-30 10:00"))


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({"mon": "17:00-09:00"}, "ends before it starts: write an overnight shift as two ranges"),
        ({"mon": "9-17"}, "expected a time range like '09:00-17:30', got '9-17'"),
        ({"mon": "09:00-24:30"}, "24:30 is not a time of day"),
        ({"mon": ["09:00-13:00", "12:00-17:00"]}, "ranges 09:00-13:00 and 12:00-17:00 overlap"),
        ({"monday": "09:00-17:00"}, "unknown field"),
        ({}, "no working time on any day"),
    ],
)
def test_bad_hours_are_refused_with_the_reason(hours: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigInvalid) as caught:
        make_config(reps=[make_rep("ann", working_hours=hours)], pools=[make_pool()])
    assert message in str(caught.value)
