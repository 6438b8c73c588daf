"""Who takes leads and who escalations go to: reps and managers in the routing config."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import Discriminator, Field, Tag, field_validator

from services.leads.config_base import ConfigModel, Id, normalized_words
from services.leads.working_hours import WeeklyHours, zone

ScheduleRef = Annotated[
    Annotated[Id, Tag("schedule-name")] | Annotated[WeeklyHours, Tag("inline-hours")],
    Discriminator(lambda value: "schedule-name" if isinstance(value, str) else "inline-hours"),
]
"""A schedule's name, or weekly hours written in place."""
SCHEDULE_REF_TAGS = frozenset({"schedule-name", "inline-hours"})

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email(value: str | None) -> str | None:
    """Notifications go here, so a typo should fail validation, not a 3 a.m. escalation."""
    if value is not None and not _EMAIL.match(value.strip()):
        raise ValueError(f"expected an email address like 'ann@example.com', got {value!r}")
    return None if value is None else value.strip()


class Manager(ConfigModel):
    """Someone escalations go to who does not take leads from a pool."""

    id: Id
    name: str
    email: str | None = None

    _email = field_validator("email")(_email)


class Rep(ConfigModel):
    id: Id
    name: str
    email: str
    manager: Id | None = None
    """A manager id, or the id of another rep who manages this one."""
    time_zone: str = "UTC"
    working_hours: ScheduleRef | None = None
    """A schedule name from `schedules`, hours written inline, or none: around the clock."""
    holidays: tuple[date, ...] = ()
    """Local dates in `time_zone` the rep does not work."""
    skills: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    max_open: int | None = Field(default=None, ge=1)
    daily_cap: int | None = Field(default=None, ge=1)
    active: bool = True

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        zone(name)
        return name

    _skills = field_validator("skills", "languages")(normalized_words)
    _email = field_validator("email")(_email)
