"""Which members of a pool may take a lead, each refusal with a named reason.

Checked in this order, the first failing check naming the skip: in the config and active;
present (`reps.presence` at the request's time); working (inside weekly hours in the rep's own
time zone, not on a local holiday); under `max_open` and `daily_cap` (this pool's counts, see
`rotation`); has every required skill; speaks the lead's language (a rep who lists no languages
is not restricted); not a previous owner of the lead. Time is always the request's, never a
clock's. Pure: the config, the presence book and the rotation state are parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache

from services.leads.config_people import Rep
from services.leads.events import PresenceStatus
from services.leads.routing_config import Pool, RoutingConfig
from services.leads.working_hours import WeeklyHours, local_datetime
from services.router.fairness import Availability
from services.router.rotation import Columns, RotationState
from services.router.strategies import Contender

PresenceAt = Callable[[str, int], tuple[PresenceStatus, int | None]]
"""(rep id, at_ms) -> (status, until_ms): `PresenceBook.status_at`."""


class SkipReason(StrEnum):
    UNKNOWN_REP = "unknown_rep"
    INACTIVE = "inactive"
    AWAY = "away"
    OFFLINE = "offline"
    OFF_HOURS = "off_hours"
    HOLIDAY = "holiday"
    MAX_OPEN = "max_open"
    DAILY_CAP = "daily_cap"
    MISSING_SKILL = "missing_skill"
    LANGUAGE = "language"
    PREVIOUS_OWNER = "previous_owner"


PER_LEAD = frozenset({SkipReason.MISSING_SKILL, SkipReason.LANGUAGE, SkipReason.PREVIOUS_OWNER})
"""Reasons about this lead, not the rep's availability: never compensated by fairness."""


@dataclass(frozen=True, slots=True)
class Ask:
    """What eligibility needs from a request."""

    at_ms: int
    required_skills: frozenset[str] = frozenset()
    language: str | None = None
    excluded: frozenset[str] = frozenset()
    """Previous owners, on a reassign."""


@dataclass(frozen=True, slots=True)
class Verdict(Contender):
    """A member's verdict, and the contender the strategy sees: one object per member, built
    once (its availability follows from the skip, see `verdict`)."""

    skip: SkipReason | None = None
    detail: str = ""

    @property
    def eligible(self) -> bool:
        return self.skip is None

    def explain(self) -> str | None:
        """The trace's skip reason: `code: detail`, or None when eligible."""
        if self.skip is None:
            return None
        return f"{self.skip.value}: {self.detail}" if self.detail else self.skip.value

    def contender(self) -> Contender:
        return self


def verdict(
    rep_id: str, weight: int, day: str, skip: SkipReason | None = None, detail: str = ""
) -> Verdict:
    """The verdict, with the availability its skip means to fairness."""
    if skip is None:
        availability = Availability.ELIGIBLE
    elif skip in PER_LEAD:
        availability = Availability.PASSED_OVER
    else:
        availability = Availability.ABSENT
    return Verdict(rep_id, weight, availability, day, skip, detail)


@dataclass(frozen=True, slots=True)
class _Member:
    """A pool member with what its checks read resolved once per config: no pydantic
    attribute reads, holiday dates as ISO strings, skill and language sets."""

    rep_id: str
    weight: int
    rep: Rep | None
    hours: WeeklyHours | None
    zone: str
    holidays: frozenset[str]
    skills: frozenset[str]
    languages: frozenset[str]


@dataclass(slots=True)
class _Roster:
    """One config's pools as `_Member`s, built once per config, and the verdicts of eligible
    members already made (one per member and local day: most verdicts of most decisions)."""

    config: RoutingConfig
    reps: dict[str, tuple[Rep, WeeklyHours | None]]
    """Every rep of the config with its weekly hours resolved."""
    pools: dict[str, tuple[Pool, tuple[_Member, ...]]]
    eligible: dict[tuple[str, int, str], Verdict]


_latest: list[_Roster] = []
"""The newest rosters first. A service has one config in force, but a backtest decides every
lead under two (the configs in force and the candidate) and must not rebuild both each time."""
_ROSTERS_KEPT = 4
_ELIGIBLE_KEPT = 50_000
"""Verdicts kept before the cache starts again: a day's worth for a large team."""


def _roster(config: RoutingConfig) -> _Roster:
    for roster in _latest:
        if roster.config is config:
            return roster
    reps = {rep.id: (rep, config.hours_of(rep.id)) for rep in config.reps}
    roster = _Roster(config, reps, {}, {})
    _latest[:] = [roster, *_latest[: _ROSTERS_KEPT - 1]]
    return roster


def _member(rep_id: str, weight: int, reps: dict[str, tuple[Rep, WeeklyHours | None]]) -> _Member:
    known = reps.get(rep_id)
    if known is None:
        return _Member(rep_id, weight, None, None, "UTC", frozenset(), frozenset(), frozenset())
    rep, hours = known
    return _Member(
        rep_id,
        weight,
        rep,
        hours,
        rep.time_zone,
        frozenset(h.isoformat() for h in rep.holidays),
        frozenset(rep.skills),
        frozenset(rep.languages),
    )


def _members(roster: _Roster, pool: Pool) -> tuple[_Member, ...]:
    known = roster.pools.get(pool.id)
    if known is not None and known[0] is pool:
        return known[1]
    members = tuple(_member(m.rep, m.weight, roster.reps) for m in pool.members)
    roster.pools[pool.id] = (pool, members)
    return members


@dataclass(frozen=True, slots=True)
class _LocalTime:
    """The request's instant on the wall clock of one time zone, to the whole second: working
    hours start and end on whole seconds of the day, so the fraction never changes a check."""

    day: str
    weekday: int
    second: int

    @classmethod
    def at(cls, at_ms: int, zone_name: str) -> _LocalTime:
        return _local_time(zone_name, at_ms // 1000)

    def within(self, hours: WeeklyHours | None) -> bool:
        """Inside `hours` (no schedule: around the clock), as `is_working_at` on a
        non-holiday."""
        if hours is None:
            return True
        second = self.second
        return any(r.start_s <= second < r.end_s for r in hours.on(self.weekday))


@lru_cache(maxsize=1024)
def _local_time(zone_name: str, epoch_second: int) -> _LocalTime:
    """Kept: leads come many a second, and a pool's members share a few zones."""
    local = local_datetime(epoch_second * 1000, zone_name)
    second = local.hour * 3600 + local.minute * 60 + local.second
    return _LocalTime(local.date().isoformat(), local.weekday(), second)


def assess(
    config: RoutingConfig, pool: Pool, state: RotationState, presence: PresenceAt, ask: Ask
) -> tuple[Verdict, ...]:
    """One verdict per pool member, in the pool's member order.

    One pass over the members. What members share is worked out once per request (the local
    time per time zone, "working?" per schedule and zone), and an eligible member's verdict is
    made once per local day and kept.
    """
    roster = _roster(config)
    kept = roster.eligible
    if len(kept) > _ELIGIBLE_KEPT:
        kept.clear()
    columns = state.columns
    checks = _Checks(presence, ask, frozenset(pool.required_skills))
    verdicts = []
    for member in _members(roster, pool):
        rep_id, weight, rep = member.rep_id, member.weight, member.rep
        if rep is None:
            verdicts.append(verdict(rep_id, weight, "", SkipReason.UNKNOWN_REP))
            continue
        clock = checks.clock(member.zone)
        day = clock.day
        skip, detail = checks.first_refusal(member, rep, clock, columns, columns.index.get(rep_id))
        if skip is not None:
            verdicts.append(verdict(rep_id, weight, day, skip, detail))
            continue
        found = kept.get((rep_id, weight, day))
        if found is None:
            found = kept[(rep_id, weight, day)] = verdict(rep_id, weight, day)
        verdicts.append(found)
    return tuple(verdicts)


class _Checks:
    """One request's checks, with what the members share worked out once."""

    def __init__(self, presence: PresenceAt, ask: Ask, pool_skills: frozenset[str]) -> None:
        self.presence = presence
        self.at_ms = ask.at_ms
        self.excluded = ask.excluded
        self.needed = ask.required_skills | pool_skills
        self.language = (ask.language or "").strip().lower()
        self._working: dict[tuple[int, str], bool] = {}

    def clock(self, zone_name: str) -> _LocalTime:
        return _LocalTime.at(self.at_ms, zone_name)  # kept per zone and second: no copy here

    def first_refusal(
        self, member: _Member, rep: Rep, clock: _LocalTime, columns: Columns, at: int | None
    ) -> tuple[SkipReason | None, str]:
        """The first check `member` fails, in the order the module names; (None, "") when
        it passes them all. `at`: the member's position in the pool's `columns`, if any."""
        if not rep.active:
            return SkipReason.INACTIVE, "inactive in the config"
        status, until = self.presence(member.rep_id, self.at_ms)
        if status is not PresenceStatus.AVAILABLE:
            reason = SkipReason.AWAY if status is PresenceStatus.AWAY else SkipReason.OFFLINE
            return reason, "until further notice" if until is None else f"until {_utc(until)}"
        day = clock.day
        if day in member.holidays:
            return SkipReason.HOLIDAY, f"{day} in {member.zone}"
        if not self._inside(member, clock):
            return SkipReason.OFF_HOURS, f"outside working hours in {member.zone}"
        held = 0 if at is None else columns.opens[at]
        if rep.max_open is not None and held >= rep.max_open:
            return SkipReason.MAX_OPEN, f"{held} open of {rep.max_open}"
        today = 0 if at is None or columns.days[at] != day else columns.day_counts[at]
        if rep.daily_cap is not None and today >= rep.daily_cap:
            return SkipReason.DAILY_CAP, f"{today} today ({day}) of {rep.daily_cap}"
        needed = self.needed
        if needed and not needed <= member.skills:
            return SkipReason.MISSING_SKILL, ", ".join(sorted(needed - member.skills))
        language = self.language
        if language and member.languages and language not in member.languages:
            return SkipReason.LANGUAGE, f"does not speak {language!r}"
        if member.rep_id in self.excluded:
            return SkipReason.PREVIOUS_OWNER, "owned this lead before"
        return None, ""

    def _inside(self, member: _Member, clock: _LocalTime) -> bool:
        key = (id(member.hours), member.zone)
        inside = self._working.get(key)
        if inside is None:
            inside = self._working[key] = clock.within(member.hours)
        return inside


def _utc(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%MZ")
