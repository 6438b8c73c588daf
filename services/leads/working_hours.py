"""Weekly working hours in a rep's own time zone, and the question "is this rep working now?".

Hours are wall-clock times in the rep's IANA zone, so a 09:00-17:00 day stays 09:00-17:00 local
across daylight-saving changes (its length in UTC changes instead). A range may end at `24:00`;
an overnight shift is written as two ranges on two days, which keeps every range inside one
local date and makes holidays unambiguous. Pure: the instant is always a parameter.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date, datetime
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""In `date.weekday()` order."""

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; raises ValueError naming it when the tz database has no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}: expected an IANA name like 'Europe/Berlin' or 'UTC'"
        ) from None


def local_datetime(at_ms: int, zone_name: str) -> datetime:
    """The wall-clock time in `zone_name` at epoch milliseconds `at_ms`."""
    return datetime.fromtimestamp(at_ms / 1000, tz=zone(zone_name))


class TimeRange(BaseModel):
    """Seconds since local midnight, `start <= t < end`; written `"09:00-17:30"` in config."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    start_s: int
    end_s: int

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        match = _RANGE.match(value)
        if match is None:
            raise ValueError(f"expected a time range like '09:00-17:30', got {value!r}")
        sh, sm, eh, em = (int(g) for g in match.groups())
        for hour, minute in ((sh, sm), (eh, em)):
            if minute > 59 or hour > 24 or (hour == 24 and minute != 0):
                raise ValueError(f"{value!r}: {hour:02d}:{minute:02d} is not a time of day")
        start, end = sh * 3600 + sm * 60, eh * 3600 + em * 60
        if end <= start:
            raise ValueError(
                f"{value!r} ends before it starts: write an overnight shift as two ranges, "
                "'22:00-24:00' on one day and '00:00-06:00' on the next"
            )
        return {"start_s": start, "end_s": end}

    def contains(self, second_of_day: float) -> bool:
        return self.start_s <= second_of_day < self.end_s

    def __str__(self) -> str:
        return f"{_clock(self.start_s)}-{_clock(self.end_s)}"


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


class WeeklyHours(BaseModel):
    """Working ranges per weekday; a day left out is a day off."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    mon: tuple[TimeRange, ...] = ()
    tue: tuple[TimeRange, ...] = ()
    wed: tuple[TimeRange, ...] = ()
    thu: tuple[TimeRange, ...] = ()
    fri: tuple[TimeRange, ...] = ()
    sat: tuple[TimeRange, ...] = ()
    sun: tuple[TimeRange, ...] = ()

    @field_validator("*", mode="before")
    @classmethod
    def _one_range_is_a_list(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("*")
    @classmethod
    def _no_overlap(cls, ranges: tuple[TimeRange, ...]) -> tuple[TimeRange, ...]:
        ordered = tuple(sorted(ranges, key=lambda r: r.start_s))
        for before, after in pairwise(ordered):
            if after.start_s < before.end_s:
                raise ValueError(f"ranges {before} and {after} overlap")
        return ordered

    def on(self, weekday: int) -> tuple[TimeRange, ...]:
        """The ranges of `weekday` (0 = Monday, as `date.weekday()`)."""
        ranges: tuple[TimeRange, ...] = getattr(self, WEEKDAYS[weekday])
        return ranges

    def weekly_seconds(self) -> int:
        return sum(r.end_s - r.start_s for day in range(7) for r in self.on(day))


def is_working_at(
    hours: WeeklyHours | None, zone_name: str, holidays: Collection[date], at_ms: int
) -> bool:
    """Whether `at_ms` falls inside `hours` in `zone_name` on a day that is not a holiday.

    `hours=None` means no schedule: working around the clock except on holidays. Holidays are
    local dates in the same zone.
    """
    local = local_datetime(at_ms, zone_name)
    if local.date() in holidays:
        return False
    if hours is None:
        return True
    second = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    return any(r.contains(second) for r in hours.on(local.weekday()))
