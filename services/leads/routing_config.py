"""The routing config: who can take leads, how pools share them, and which pool a lead goes to.

One YAML document (`deploy/config/routing.example.yaml` is the annotated example; docs/routing.md
the reference) validated into these frozen models. `parse_routing_config(data)` is the one way
in: it returns a `RoutingConfig` or raises `ConfigInvalid` listing every problem with its path
(`pools[2].members[0].rep: unknown rep 'ann'`). Field problems come from pydantic; reference
problems (unknown reps, fallback cycles, ...) from `config_checks`. Pure: no files, no clock.

Lookups other components use (`rep`, `pool`, `sla_policy`, `fallback_chain`, `is_working`,
`local_day`, `escalation_manager`) are methods here, so every service reads the config one way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from pydantic import Field, PrivateAttr, ValidationError, field_validator

from services.leads.config_base import ConfigModel, Id, non_empty, normalized_words
from services.leads.config_checks import cross_check
from services.leads.config_errors import ConfigInvalid, ConfigProblem
from services.leads.config_people import SCHEDULE_REF_TAGS, Manager, Rep
from services.leads.config_pools import Fairness, Member, Pool, Strategy
from services.leads.durations import DurationMs
from services.leads.identity_config import IdentityLinking
from services.leads.notification_config import (
    Notifications,
    contact_problems,
    without_channel_tags,
)
from services.leads.rule_conditions import Conditions, NumberRange
from services.leads.sla_policy import Escalate, EscalateTo, SlaPolicy
from services.leads.working_hours import WeeklyHours, is_working_at, local_datetime

__all__ = [
    "Conditions",
    "ConfigInvalid",
    "ConfigProblem",
    "Continuity",
    "Escalate",
    "EscalateTo",
    "Fairness",
    "IdentityLinking",
    "Manager",
    "Member",
    "NumberRange",
    "Pool",
    "Rep",
    "RoutingConfig",
    "Rule",
    "Scoring",
    "ScoringRule",
    "SlaPolicy",
    "Strategy",
    "VersionedConfig",
    "WeeklyHours",
    "parse_routing_config",
]
"""Everything a reader of the config needs, importable from this one module."""


class Rule(ConfigModel):
    """First matching rule (in document order) picks the pool; no match -> `default_pool`."""

    id: Id
    when: Conditions = Conditions()
    pool: Id
    required_skills: tuple[str, ...] = ()
    """Added to the pool's required skills for leads this rule matches."""

    _skills = field_validator("required_skills")(normalized_words)


class ScoringRule(ConfigModel):
    id: Id
    when: Conditions
    points: int


class Scoring(ConfigModel):
    """A lead's score: `base` plus the points of every scoring rule it matches."""

    base: int = 0
    rules: tuple[ScoringRule, ...] = ()


class Continuity(ConfigModel):
    """How long an owner is kept; a zero window turns that kind of continuity off."""

    person_window_ms: DurationMs = Field(default=30 * 86_400_000, alias="person_window")
    """A lead from the same person (identity) goes to their owner within this window."""
    company_domain_window_ms: DurationMs = Field(
        default=90 * 86_400_000, alias="company_domain_window"
    )
    """A lead from the same company domain goes to the account's owner within this window."""
    dedup_window_ms: DurationMs = Field(default=3_600_000, alias="dedup_window")
    """A new lead from the same person this soon is a repeat: same owner, marked as a repeat."""


class RoutingConfig(ConfigModel):
    description: str = ""
    territories: dict[Id, tuple[str, ...]] = Field(default_factory=dict)
    """Named country groups (ISO 3166-1 alpha-2) rules can match with `territory`."""
    schedules: dict[Id, WeeklyHours] = Field(default_factory=dict)
    """Named weekly hours reps refer to by name."""
    managers: tuple[Manager, ...] = ()
    reps: tuple[Rep, ...]
    pools: tuple[Pool, ...]
    rules: tuple[Rule, ...] = ()
    default_pool: Id
    fallback_queue: Id = "unassigned"
    """Where an unassigned lead's `Assignment` points (its pool id) when every fallback failed."""
    scoring: Scoring = Scoring()
    continuity: Continuity = Continuity()
    identity: IdentityLinking = IdentityLinking()
    """When identifiers seen together are one person (identity_config.py)."""
    sla_policies: tuple[SlaPolicy, ...] = ()
    notifications: Notifications = Notifications()
    """Who is told about assignments and escalations, and how (notification_config.py)."""

    _reps: dict[str, Rep] = PrivateAttr(default_factory=dict)
    _pools: dict[str, Pool] = PrivateAttr(default_factory=dict)
    _policies: dict[str, SlaPolicy] = PrivateAttr(default_factory=dict)

    _listed = field_validator("reps", "pools")(non_empty)

    @field_validator("territories")
    @classmethod
    def _countries(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        return {name: tuple(c.strip().upper() for c in codes) for name, codes in value.items()}

    def model_post_init(self, context: Any) -> None:
        self._reps = {r.id: r for r in self.reps}
        self._pools = {p.id: p for p in self.pools}
        self._policies = {p.id: p for p in self.sla_policies}
        problems = cross_check(self)
        people = set(self._reps) | {m.id for m in self.managers}
        problems += contact_problems(self.notifications, people, set(self._pools))
        if problems:
            raise ConfigInvalid(tuple(problems))

    # -- lookups -----------------------------------------------------------------------------
    # The indexes are read from `__pydantic_private__` directly: `self._pools` finds a private
    # attribute only after ordinary lookup fails (pydantic's `__getattr__`), about 1 us a read,
    # and the router reads pools and reps several times per lead.
    def _index(self, name: str) -> dict[str, Any]:
        private = cast("dict[str, dict[str, Any]]", self.__pydantic_private__)  # never None here
        return private[name]

    def rep(self, rep_id: str) -> Rep:
        """The rep `rep_id`; raises KeyError naming it when the config has no such rep."""
        try:
            rep: Rep = self._index("_reps")[rep_id]
        except KeyError:
            raise KeyError(f"unknown rep {rep_id!r}") from None
        return rep

    def has_rep(self, rep_id: str) -> bool:
        return rep_id in self._index("_reps")

    def pool(self, pool_id: str) -> Pool:
        """The pool `pool_id`; raises KeyError naming it when the config has no such pool."""
        try:
            pool: Pool = self._index("_pools")[pool_id]
        except KeyError:
            raise KeyError(f"unknown pool {pool_id!r}") from None
        return pool

    def has_pool(self, pool_id: str) -> bool:
        return pool_id in self._index("_pools")

    def sla_policy(self, policy_id: str) -> SlaPolicy:
        try:
            policy: SlaPolicy = self._index("_policies")[policy_id]
        except KeyError:
            raise KeyError(f"unknown SLA policy {policy_id!r}") from None
        return policy

    def pools_of(self, rep_id: str) -> tuple[Pool, ...]:
        return tuple(p for p in self.pools if any(m.rep == rep_id for m in p.members))

    def fallback_chain(self, pool_id: str) -> tuple[str, ...]:
        """`pool_id`, its fallback, that one's fallback, ...: finite (cycles are refused)."""
        chain = [pool_id]
        while (fallback := self.pool(chain[-1]).fallback) is not None:
            chain.append(fallback)
        return tuple(chain)

    def hours_of(self, rep_id: str) -> WeeklyHours | None:
        """The rep's weekly hours, a named schedule resolved; None means around the clock."""
        hours = self.rep(rep_id).working_hours
        return self.schedules[hours] if isinstance(hours, str) else hours

    def is_working(self, rep_id: str, at_ms: int) -> bool:
        """Inside the rep's working hours in their own zone at `at_ms`, and not a holiday.

        DST-correct: hours are local wall-clock times. Says nothing about `active`, presence
        or caps; those are separate eligibility checks with their own skip reasons.
        """
        rep = self.rep(rep_id)
        return is_working_at(self.hours_of(rep_id), rep.time_zone, rep.holidays, at_ms)

    def local_day(self, rep_id: str, at_ms: int) -> str:
        """The rep's local date at `at_ms` as `YYYY-MM-DD`: the day `daily_cap` counts."""
        return local_datetime(at_ms, self.rep(rep_id).time_zone).date().isoformat()

    def escalation_manager(self, pool_id: str, rep_id: str | None) -> str | None:
        """Who a manager escalation goes to: the owner's manager, else the pool's manager."""
        if rep_id is not None and rep_id in self._reps and self._reps[rep_id].manager:
            return self._reps[rep_id].manager
        return self.pool(pool_id).manager


def parse_routing_config(data: Mapping[str, object] | object) -> RoutingConfig:
    """Validate a parsed YAML document; raises `ConfigInvalid` with every problem found."""
    try:
        return RoutingConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigInvalid(tuple(_problem(e) for e in exc.errors())) from None


def _problem(error: Any) -> ConfigProblem:
    path = tuple(part for part in error["loc"] if part not in SCHEDULE_REF_TAGS)
    if path[:1] == ("notifications",):
        path = without_channel_tags(path)
    kind = error["type"]
    if kind == "extra_forbidden":
        return ConfigProblem(path, "unknown field (check the spelling against docs/routing.md)")
    if kind == "missing":
        return ConfigProblem(path, "required field is missing")
    if kind == "string_pattern_mismatch":
        return ConfigProblem(
            path,
            (
                f"expected an id of letters, digits, '.', '_', ':' or '-' (at most 64, starting "
                f"with a letter or digit), got {error['input']!r}"
            ),
        )
    if kind == "value_error":
        return ConfigProblem(path, str(error["msg"]).removeprefix("Value error, "))
    return ConfigProblem(path, f"{error['msg']}, got {error['input']!r}")


@dataclass(frozen=True, slots=True)
class VersionedConfig:
    """A published config: what every decision records (`config_version`, `config_hash`)."""

    version: int
    content_hash: str
    config: RoutingConfig
