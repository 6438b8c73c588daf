"""Pools: who shares a stream of leads, how turns are given, and where leads go next."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator

from services.leads.config_base import ConfigModel, Id, non_empty, normalized_words


class Strategy(StrEnum):
    ROUND_ROBIN = "round_robin"
    WEIGHTED = "weighted"
    LEAST_LOADED = "least_loaded"


class Fairness(StrEnum):
    STRICT = "strict"
    """A turn skipped while a rep is ineligible is lost."""
    CATCH_UP = "catch_up"
    """A rep back from an absence gets priority until level, at most `catch_up_limit` in a row."""
    PRO_RATA = "pro_rata"
    """An absence counts as if the rep had been served."""


class Member(ConfigModel):
    rep: Id
    weight: int = Field(default=1, gt=0)


class Pool(ConfigModel):
    id: Id
    name: str = ""
    members: tuple[Member, ...]
    strategy: Strategy = Strategy.ROUND_ROBIN
    fairness: Fairness = Fairness.STRICT
    catch_up_limit: int = Field(default=3, ge=1)
    fallback: Id | None = None
    """Where a lead goes when no member is eligible; none left -> `fallback_queue`."""
    sla_policy: Id | None = None
    required_skills: tuple[str, ...] = ()
    manager: Id | None = None
    """Who escalations go to when the owner has no manager, or there is no owner."""

    _skills = field_validator("required_skills")(normalized_words)
    _members = field_validator("members")(non_empty)

    def weight_of(self, rep_id: str) -> int:
        return next((m.weight for m in self.members if m.rep == rep_id), 0)
