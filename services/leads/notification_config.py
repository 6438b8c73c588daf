"""The `notifications` section of the routing config: who hears about which events, and how.

    notifications:
      console_url: "https://crm.example.com/leads/{lead_id}"   # optional link in messages
      contacts:                    # keyed by a rep, manager or pool id
        ann:
          quiet_hours: "21:00-07:00"   # local to time_zone (default: the rep's own zone)
          points:
            - {channel: email, to: ann@example.com}
            - {channel: sms, to: "+4915123456789"}
        pool.emea:
          points:
            - {channel: slack, webhook_url: "https://hooks.slack.com/services/T/B/X"}
      subscribers:                 # hear every event: CRMs and in-house tools
        - {channel: webhook, url: "https://crm.example.com/hooks/leadrouter"}
      templates:
        assigned: {subject: "New lead: {{ lead.company or lead.lead_id }}"}

Optional: a config without it is valid and notifies nobody. Pure: validation only; whether a
time is quiet is asked with `is_quiet(quiet_hours, zone, at_ms)` (see `quiet_until`).
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Literal

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import Discriminator, Field, field_validator, model_validator

from services.leads.config_base import ConfigModel, Id
from services.leads.config_errors import ConfigProblem
from services.leads.working_hours import local_datetime, zone

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_QUIET = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class NotificationEvent(StrEnum):
    """The kinds of event a person or subscriber is told about; templates are keyed by these."""

    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    ESCALATED = "escalated"
    ADMIN_ACTION = "admin_action"
    """A manual action from the console (`admin.audit`): told to the pool's manager and the
    pool's own contacts, never to subscribers (their webhook carries lead events only)."""


def _url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("https://", "http://")):
        raise ValueError(f"expected an http(s) URL, got {value!r}")
    return value


class EmailPoint(ConfigModel):
    channel: Literal["email"]
    to: str

    @field_validator("to")
    @classmethod
    def _address(cls, value: str) -> str:
        if not _EMAIL.match(value.strip()):
            raise ValueError(f"expected an email address like 'ann@example.com', got {value!r}")
        return value.strip()


class SmsPoint(ConfigModel):
    channel: Literal["sms"]
    to: str

    @field_validator("to")
    @classmethod
    def _number(cls, value: str) -> str:
        if not _E164.match(value.strip()):
            raise ValueError(
                f"expected a phone number in E.164 form like '+4915123456789', got {value!r}"
            )
        return value.strip()


class SlackPoint(ConfigModel):
    """An incoming webhook (`webhook_url`), or `chat.postMessage` to `slack_channel` with the
    bot token from NOTIFIER_SLACK_BOT_TOKEN."""

    channel: Literal["slack"]
    webhook_url: str | None = None
    slack_channel: str | None = None

    _urls = field_validator("webhook_url")(_url)

    @model_validator(mode="after")
    def _one_way(self) -> SlackPoint:
        if (self.webhook_url is None) == (self.slack_channel is None):
            raise ValueError("give exactly one of webhook_url and slack_channel")
        return self


class TeamsPoint(ConfigModel):
    channel: Literal["teams"]
    webhook_url: str

    _urls = field_validator("webhook_url")(_url)


class WebhookPoint(ConfigModel):
    """A generic webhook signed per Standard Webhooks with NOTIFIER_WEBHOOK_SECRET."""

    channel: Literal["webhook"]
    url: str

    _urls = field_validator("url")(_url)


ContactPoint = Annotated[
    EmailPoint | SmsPoint | SlackPoint | TeamsPoint | WebhookPoint, Discriminator("channel")
]


def address_of(point: ContactPoint) -> str:
    """Where a point sends to, as one string: part of the notification id."""
    if isinstance(point, EmailPoint | SmsPoint):
        return point.to
    if isinstance(point, SlackPoint):
        return point.webhook_url or f"slack:{point.slack_channel}"
    if isinstance(point, TeamsPoint):
        return point.webhook_url
    return point.url


class QuietHours(ConfigModel):
    """Local wall-clock minutes `[start, end)`; `end < start` spans midnight."""

    start_min: int
    end_min: int


def _quiet(value: object) -> object:
    if not isinstance(value, str):
        return value
    match = _QUIET.match(value)
    if match is None:
        raise ValueError(f"expected quiet hours like '21:00-07:00', got {value!r}")
    sh, sm, eh, em = (int(g) for g in match.groups())
    if sh > 23 or eh > 23 or sm > 59 or em > 59:
        raise ValueError(f"{value!r}: hours run 00:00 to 23:59")
    if (sh, sm) == (eh, em):
        raise ValueError(f"{value!r}: start and end are the same time")
    return {"start_min": sh * 60 + sm, "end_min": eh * 60 + em}


class Contact(ConfigModel):
    points: tuple[ContactPoint, ...]
    quiet_hours: QuietHours | None = None
    """Messages due inside these hours wait until they end (webhooks excepted: no one sleeps)."""
    time_zone: str | None = None
    """The zone quiet hours are read in; default: the rep's `time_zone`, else UTC."""

    _quiet_hours = field_validator("quiet_hours", mode="before")(_quiet)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str | None) -> str | None:
        if name is not None:
            zone(name)
        return name


class Template(ConfigModel):
    """Jinja2 sources; any left out falls back to the built-in one for the event type."""

    subject: str | None = None
    text: str | None = None
    html: str | None = None
    sms: str | None = None

    @field_validator("subject", "text", "html", "sms")
    @classmethod
    def _compiles(cls, source: str | None) -> str | None:
        if source is not None:
            try:
                SandboxedEnvironment().parse(source)
            except TemplateSyntaxError as exc:
                raise ValueError(
                    f"template does not compile: {exc.message} (template line {exc.lineno})"
                ) from None
        return source


class Notifications(ConfigModel):
    console_url: str | None = None
    """A link to the lead in messages; `{lead_id}` is replaced by the lead's id."""
    contacts: dict[Id, Contact] = Field(default_factory=dict)
    subscribers: tuple[ContactPoint, ...] = ()
    templates: dict[NotificationEvent, Template] = Field(default_factory=dict)

    _urls = field_validator("console_url")(_url)


def without_channel_tags(path: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """pydantic puts the union member's tag after a point's index (`points[0].email.to`); a
    person reads `points[0].to`."""
    tags = {"email", "sms", "slack", "teams", "webhook"}
    return tuple(
        part
        for index, part in enumerate(path)
        if not (part in tags and index > 0 and isinstance(path[index - 1], int))
    )


def quiet_until(quiet: QuietHours | None, zone_name: str, at_ms: int) -> int | None:
    """When the quiet hours around `at_ms` end (epoch ms), or None when `at_ms` is not quiet."""
    if quiet is None:
        return None
    local = local_datetime(at_ms, zone_name)
    minute = local.hour * 60 + local.minute
    start, end = quiet.start_min, quiet.end_min
    inside = start <= minute < end if start < end else minute >= start or minute < end
    if not inside:
        return None
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    ends = midnight + timedelta(minutes=end)
    if ends <= local:
        ends += timedelta(days=1)
    # Wall-clock arithmetic on an aware datetime: re-attach the zone so DST is honoured.
    ends = ends.replace(tzinfo=None).replace(tzinfo=zone(zone_name))
    return int(ends.timestamp() * 1000)


def contact_problems(
    notifications: Notifications, people: set[str], pools: set[str]
) -> list[ConfigProblem]:
    """Contacts keyed by an id that is no rep, manager or pool would never be told anything."""
    problems = []
    for key in notifications.contacts:
        if key not in people and key not in pools:
            problems.append(
                ConfigProblem(
                    ("notifications", "contacts", key),
                    f"{key!r} is no rep, manager or pool id: contacts are keyed by those",
                )
            )
    return problems
