"""Deadlines of an SLA policy: business-hours arithmetic and the order of the steps.

Pure: every instant is an epoch-millisecond argument, nothing reads a clock. A working week is a
set of wall-clock windows in an IANA time zone; business time is real elapsed time inside those
windows, so a window on a DST-change day is an hour longer or shorter than on other days, and a
wall-clock time that does not exist that day (the spring-forward gap) counts from the first
instant that does.

    start ──notify (fraction of the business-time budget)──► deadline ──► reassign | escalate
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.leads.events import EscalationStep

SECONDS_PER_DAY = 24 * 3600
_SEARCH_LIMIT_DAYS = 3700
"""A budget a working week cannot absorb in about ten years is a configuration mistake."""


@dataclass(frozen=True, slots=True)
class Window:
    """Working time on one weekday (0 = Monday), seconds after local midnight, end exclusive."""

    weekday: int
    start_s: int
    end_s: int

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {self.weekday}")
        if not 0 <= self.start_s < self.end_s <= SECONDS_PER_DAY:
            raise ValueError(
                f"a window must start before it ends within one day (0..86400 s), "
                f"got {self.start_s}..{self.end_s} on weekday {self.weekday}"
            )


@dataclass(frozen=True, slots=True)
class WorkingWeek:
    """When an owner works: windows in a time zone, repeated every week."""

    time_zone: str
    windows: tuple[Window, ...]
    holidays: frozenset[date] = frozenset()
    """Local dates with no working time at all."""

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"time_zone {self.time_zone!r} is not an IANA zone name like 'Europe/Berlin'"
            ) from exc
        if not self.windows:
            raise ValueError("a working week needs at least one window")
        ordered = sorted(self.windows, key=lambda w: (w.weekday, w.start_s))
        for before, after in pairwise(ordered):
            if before.weekday == after.weekday and after.start_s < before.end_s:
                raise ValueError(f"windows overlap on weekday {before.weekday}")
        object.__setattr__(self, "windows", tuple(ordered))


def _local_instant_ms(day: date, second: int, zone: ZoneInfo) -> int:
    if second == SECONDS_PER_DAY:
        day, second = day + timedelta(days=1), 0
    wall = datetime.combine(day, time(second // 3600, second % 3600 // 60, second % 60), zone)
    return int(wall.timestamp() * 1000)


def open_intervals(week: WorkingWeek, from_ms: int) -> Iterator[tuple[int, int]]:
    """Working intervals `[open, close)` in epoch ms, in order, clipped to start at `from_ms`.

    Endless for any valid week; callers stop when they have what they need.
    """
    zone = ZoneInfo(week.time_zone)
    # A day early, so a window of the previous local day still open at from_ms is not missed.
    day = datetime.fromtimestamp(from_ms / 1000, tz=zone).date() - timedelta(days=1)
    while True:
        for window in week.windows:
            if window.weekday != day.weekday() or day in week.holidays:
                continue
            opened = _local_instant_ms(day, window.start_s, zone)
            closed = _local_instant_ms(day, window.end_s, zone)
            opened = max(opened, from_ms)
            if closed > opened:
                yield opened, closed
        day += timedelta(days=1)


def add_business_time(start_ms: int, budget_ms: int, week: WorkingWeek | None) -> int:
    """The instant at which `budget_ms` of business time has passed since `start_ms`.

    Without a working week the clock never pauses. Starting outside working hours, the clock
    starts when the next window opens; a zero budget is due at once.
    """
    if budget_ms < 0:
        raise ValueError(f"a time budget cannot be negative, got {budget_ms} ms")
    if week is None or budget_ms == 0:
        return start_ms + budget_ms
    remaining = budget_ms
    limit = start_ms + _SEARCH_LIMIT_DAYS * 86_400_000
    for opened, closed in open_intervals(week, start_ms):
        if opened > limit:
            break
        if remaining <= closed - opened:
            return opened + remaining
        remaining -= closed - opened
    raise ValueError(f"{budget_ms} ms of business time does not fit in {week.time_zone} hours")


def business_time_between(start_ms: int, end_ms: int, week: WorkingWeek | None) -> int:
    """Business time elapsed from `start_ms` to `end_ms` (0 when end is not after start)."""
    if end_ms <= start_ms:
        return 0
    if week is None:
        return end_ms - start_ms
    total = 0
    for opened, closed in open_intervals(week, start_ms):
        if opened >= end_ms:
            break
        total += min(closed, end_ms) - opened
    return total


ALL_DAY = tuple(Window(day, 0, SECONDS_PER_DAY) for day in range(7))
"""An owner with no working hours works around the clock (except on holidays)."""


class EscalationTarget(StrEnum):
    """Who the last step goes to once the reassignments are used up."""

    MANAGER = "manager"
    FALLBACK = "fallback"


@dataclass(frozen=True, slots=True)
class SlaTerms:
    """The parts of an SLA policy the watcher needs, taken from the routing config."""

    policy_id: str
    first_touch_ms: int
    business_hours: bool = False
    notify_fractions: tuple[float, ...] = ()
    """Increasing fractions of the budget at which the owner is reminded."""
    max_reassignments: int = 2
    """K: reassignments before a missed deadline escalates (0: escalate at the first)."""
    escalate_to: EscalationTarget = EscalationTarget.MANAGER

    def __post_init__(self) -> None:
        if self.first_touch_ms <= 0:
            raise ValueError(f"first_touch_ms must be positive, got {self.first_touch_ms}")
        if any(not 0 < f < 1 for f in self.notify_fractions) or list(
            self.notify_fractions
        ) != sorted(set(self.notify_fractions)):
            raise ValueError(
                "notify_fractions must increase and lie strictly between 0 and 1, "
                f"got {self.notify_fractions}"
            )
        if self.max_reassignments < 0:
            raise ValueError(f"max_reassignments cannot be negative, got {self.max_reassignments}")


@dataclass(frozen=True, slots=True)
class Deadlines:
    notify_due_ms: tuple[int, ...]
    """One per notify fraction, in order; never after the deadline."""
    deadline_ms: int


def plan_deadlines(assigned_at_ms: int, terms: SlaTerms, week: WorkingWeek | None) -> Deadlines:
    """When an assignment made at `assigned_at_ms` is notified and when it is overdue.

    The clock counts in the owner's working week only when the policy asks for business hours.
    Each notify step falls at its fraction of the business-time budget, so notify steps come in
    order and never after the deadline.
    """
    counted = week if terms.business_hours else None
    deadline = add_business_time(assigned_at_ms, terms.first_touch_ms, counted)
    notify = tuple(
        add_business_time(assigned_at_ms, int(terms.first_touch_ms * fraction), counted)
        for fraction in terms.notify_fractions
    )
    return Deadlines(notify_due_ms=notify, deadline_ms=deadline)


def deadline_step(reassignments_done: int, max_reassignments: int) -> EscalationStep:
    """What a missed deadline does: reassign while reassignments remain, then escalate."""
    if reassignments_done < max_reassignments:
        return EscalationStep.REASSIGN
    return EscalationStep.ESCALATE


def is_due(due_ms: int, now_ms: int, grace_ms: int) -> bool:
    """A step fires once `grace_ms` has passed after its due time, never before it is due.

    The grace lets activity already written to the log, but not yet read, win over the timer.
    """
    return now_ms >= due_ms + max(0, grace_ms)
