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

from services.leads.config_people import Rep
from services.leads.events import PresenceStatus
from services.leads.routing_config import Pool, RoutingConfig
from services.leads.working_hours import WeeklyHours, is_working_at, local_datetime
from services.router.fairness import Availability
from services.router.rotation import MemberStanding, RotationState
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
class _Roster:
    """One config's reps by id with their weekly hours resolved, built once per config.

    The same answers as `RoutingConfig.rep` and `hours_of`, without their lookups (pydantic
    private attributes) once per member per decision, where they showed in profiles.
    """

    config: RoutingConfig
    reps: dict[str, tuple[Rep, WeeklyHours | None]]


_latest: list[_Roster] = []


def _roster(config: RoutingConfig) -> _Roster:
    latest = _latest[0] if _latest else None
    if latest is not None and latest.config is config:
        return latest
    roster = _Roster(config, {rep.id: (rep, config.hours_of(rep.id)) for rep in config.reps})
    _latest[:] = [roster]  # one config in force at a time: keep only the newest
    return roster


def assess(
    config: RoutingConfig, pool: Pool, state: RotationState, presence: PresenceAt, ask: Ask
) -> tuple[Verdict, ...]:
    """One verdict per pool member, in the pool's member order."""
    reps = _roster(config).reps
    standings = state.standings()
    needed = ask.required_skills | frozenset(pool.required_skills)
    days: dict[str, str] = {}  # a pool's members share a few time zones
    verdicts = []
    for member in pool.members:
        rep_id = member.rep
        known = reps.get(rep_id)
        if known is None:
            verdicts.append(verdict(rep_id, member.weight, "", SkipReason.UNKNOWN_REP))
            continue
        rep, hours = known
        day = days.get(rep.time_zone)
        if day is None:  # as config.local_day
            day = days[rep.time_zone] = local_datetime(ask.at_ms, rep.time_zone).date().isoformat()
        standing = standings.get(rep_id) or MemberStanding(rep_id=rep_id)
        skip, detail = _first_refusal(
            rep, hours, presence, ask, standing=standing, day=day, needed=needed
        )
        verdicts.append(verdict(rep_id, member.weight, day, skip, detail))
    return tuple(verdicts)


def _first_refusal(
    rep: Rep,
    hours: WeeklyHours | None,
    presence: PresenceAt,
    ask: Ask,
    *,
    standing: MemberStanding,
    day: str,
    needed: frozenset[str],
) -> tuple[SkipReason | None, str]:
    rep_id = standing.rep_id
    if not rep.active:
        return SkipReason.INACTIVE, "inactive in the config"
    status, until = presence(rep_id, ask.at_ms)
    if status is not PresenceStatus.AVAILABLE:
        reason = SkipReason.AWAY if status is PresenceStatus.AWAY else SkipReason.OFFLINE
        return reason, "until further notice" if until is None else f"until {_utc(until)}"
    if any(h.isoformat() == day for h in rep.holidays):
        return SkipReason.HOLIDAY, f"{day} in {rep.time_zone}"
    if not is_working_at(hours, rep.time_zone, rep.holidays, ask.at_ms):  # config.is_working
        return SkipReason.OFF_HOURS, f"outside working hours in {rep.time_zone}"
    held = standing.open
    if rep.max_open is not None and held >= rep.max_open:
        return SkipReason.MAX_OPEN, f"{held} open of {rep.max_open}"
    today = standing.count_on(day)
    if rep.daily_cap is not None and today >= rep.daily_cap:
        return SkipReason.DAILY_CAP, f"{today} today ({day}) of {rep.daily_cap}"
    missing = sorted(needed - set(rep.skills))
    if missing:
        return SkipReason.MISSING_SKILL, ", ".join(missing)
    language = (ask.language or "").strip().lower()
    if language and rep.languages and language not in rep.languages:
        return SkipReason.LANGUAGE, f"does not speak {language!r}"
    if rep_id in ask.excluded:
        return SkipReason.PREVIOUS_OWNER, "owned this lead before"
    return None, ""


def _utc(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%MZ")
