"""SLA policies: the first-touch deadline and the steps taken when it is missed.

The SLA watcher (services/sla_watcher) interprets them; the router only checks references.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator

from services.leads.config_base import ConfigModel, Id
from services.leads.durations import DurationMs


class EscalateTo(StrEnum):
    MANAGER = "manager"
    FALLBACK = "fallback"


class Escalate(ConfigModel):
    after_reassignments: int = Field(default=2, ge=0)
    """K: once a lead has been reassigned K times, the next missed deadline escalates."""
    to: EscalateTo = EscalateTo.MANAGER


class SlaPolicy(ConfigModel):
    id: Id
    first_touch_ms: DurationMs = Field(alias="first_touch", gt=0)
    business_hours: bool = False
    """Count the deadline in the owner's working hours only (the clock pauses outside them)."""
    notify_at: tuple[float, ...] = (0.5,)
    """Fractions of the deadline at which the owner is reminded, each in (0, 1)."""
    reassign: bool = True
    """Reassign at the deadline; when false the deadline escalates straight away."""
    escalate: Escalate = Escalate()

    @field_validator("notify_at")
    @classmethod
    def _fractions(cls, values: tuple[float, ...]) -> tuple[float, ...]:
        if any(not 0 < v < 1 for v in values):
            raise ValueError(f"expected fractions of the deadline between 0 and 1, got {values}")
        if list(values) != sorted(set(values)):
            raise ValueError(f"expected increasing fractions without repeats, got {values}")
        return values
