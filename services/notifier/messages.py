"""What a notification says: the event in a documented JSON form, and the texts rendered from it.

Texts are Jinja2 templates in a sandbox (templates come from config, so they may not reach
Python objects); the HTML one is autoescaped, so a lead's "<script>" arrives as text. Each
event type has built-in templates; `notifications.templates` in the routing config overrides
any of them; one that fails as it renders (the sandbox refusing an attribute, a division by
zero) falls back to the built-in one, so a template mistake never silences a notification.
Pure: the time a payload carries is the event's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from jinja2 import Template
from jinja2.sandbox import SandboxedEnvironment

from services.leads.events import AdminAction, AdminAudit, Assignment, Escalation, Lead
from services.leads.notification_config import NotificationEvent, Notifications

DEFAULTS: dict[NotificationEvent, dict[str, str]] = {
    NotificationEvent.ASSIGNED: {
        "subject": "New lead for {{ recipient }}: {{ lead.display }}",
        "text": "{{ lead.display }} ({{ lead.channel }}) was assigned to {{ data.rep_id }} "
        "in pool {{ data.pool_id }}.\n{% if lead.message %}\n{{ lead.message }}\n{% endif %}"
        "{% if link %}\nOpen the lead: {{ link }}\n{% endif %}",
        "html": "<p><strong>{{ lead.display }}</strong> ({{ lead.channel }}) was assigned to "
        "{{ data.rep_id }} in pool {{ data.pool_id }}.</p>{% if lead.message %}<blockquote>"
        "{{ lead.message }}</blockquote>{% endif %}"
        '{% if link %}<p><a href="{{ link }}">Open the lead</a></p>{% endif %}',
        "sms": "New lead: {{ lead.display }}{% if link %} {{ link }}{% endif %}",
    },
    NotificationEvent.UNASSIGNED: {
        "subject": "No rep could take {{ lead.display }}",
        "text": "{{ lead.display }} could not be assigned in pool {{ data.pool_id }} "
        "({{ data.reason }}).{% if link %}\nOpen the lead: {{ link }}{% endif %}",
        "html": "<p><strong>{{ lead.display }}</strong> could not be assigned in pool "
        "{{ data.pool_id }} ({{ data.reason }}).</p>"
        '{% if link %}<p><a href="{{ link }}">Open the lead</a></p>{% endif %}',
        "sms": "Unassigned lead: {{ lead.display }} ({{ data.reason }})",
    },
    NotificationEvent.ESCALATED: {
        "subject": "SLA {{ data.step }}: lead {{ data.lead_id }}",
        "text": "Lead {{ data.lead_id }} of {{ data.rep_id or 'nobody' }} in pool "
        "{{ data.pool_id }}: {{ data.step }} ({{ data.reason }}).{% if link %}\n"
        "Open the lead: {{ link }}{% endif %}",
        "html": "<p>Lead <strong>{{ data.lead_id }}</strong> of {{ data.rep_id or 'nobody' }} "
        "in pool {{ data.pool_id }}: {{ data.step }} ({{ data.reason }}).</p>"
        '{% if link %}<p><a href="{{ link }}">Open the lead</a></p>{% endif %}',
        "sms": "SLA {{ data.step }}: lead {{ data.lead_id }} ({{ data.reason }})",
    },
    NotificationEvent.ADMIN_ACTION: {
        "subject": "{{ data.actor }}: {{ data.summary }}",
        "text": "{{ data.actor }} ({{ data.role }}): {{ data.summary }}.\nReason: {{ data.reason }}"
        "{% if link and data.lead_id %}\nOpen the lead: {{ link }}{% endif %}",
        "html": "<p><strong>{{ data.actor }}</strong> ({{ data.role }}): {{ data.summary }}.</p>"
        "<p>Reason: {{ data.reason }}</p>"
        '{% if link and data.lead_id %}<p><a href="{{ link }}">Open the lead</a></p>{% endif %}',
        "sms": "{{ data.actor }}: {{ data.summary }} ({{ data.reason }})",
    },
}


_LEAD_FIELDS = (
    "channel",
    "email",
    "phone",
    "company",
    "country",
    "product",
    "deal_value",
    "message",
)


@dataclass(frozen=True, slots=True)
class Message:
    subject: str
    text: str
    html: str
    short: str
    """One line: SMS bodies, Slack and Teams fallbacks."""
    link: str | None


@dataclass(frozen=True, slots=True)
class EventPayload:
    """The webhook body (schemas/notification.webhook.schema.json) and its event's identity."""

    event_id: str
    event_type: NotificationEvent
    lead_id: str
    occurred_at_ms: int
    body: dict[str, Any]


def assignment_payload(assignment: Assignment) -> EventPayload:
    kind = (
        NotificationEvent.ASSIGNED
        if assignment.rep_id is not None
        else NotificationEvent.UNASSIGNED
    )
    data = {
        "event_id": assignment.assignment_id,
        "lead_id": assignment.lead_id,
        "pool_id": assignment.pool_id,
        "rep_id": assignment.rep_id,
        "reason": assignment.reason,
        "attempt": assignment.attempt,
        "kind": assignment.kind.value,
        "previous_owners": list(assignment.previous_owners),
        "config_version": assignment.trace.config_version,
        "lead": lead_summary(assignment.lead, assignment.lead_id),
    }
    return _payload(assignment.assignment_id, kind, assignment.decided_at_ms, data)


def escalation_payload(escalation: Escalation) -> EventPayload:
    data = {
        "event_id": escalation.escalation_id,
        "lead_id": escalation.lead_id,
        "pool_id": escalation.pool_id,
        "rep_id": escalation.rep_id,
        "reason": escalation.reason,
        "attempt": escalation.attempt,
        "step": escalation.step.value,
        "target": escalation.target,
        "policy_id": escalation.policy_id,
        "due_at_ms": escalation.due_at_ms,
        "lead": lead_summary(None, escalation.lead_id),
    }
    kind = NotificationEvent.ESCALATED
    return _payload(escalation.escalation_id, kind, escalation.fired_at_ms, data)


_SUMMARIES = {
    AdminAction.ASSIGN_TO_REP: "lead {target} reassigned by hand to {rep_id} in pool {pool_id}",
    AdminAction.REASSIGN_REP_LEADS: "every open lead of {target} ({leads}) sent back to routing",
    AdminAction.PAUSE_POOL: "pool {target} paused",
    AdminAction.RESUME_POOL: "pool {target} resumed",
}
"""The console actions a person is told about; presence changes and config publishes are not."""


def audit_payload(audit: AdminAudit) -> EventPayload | None:
    """A manual action as an event, or None for actions nobody is told about."""
    summary = _SUMMARIES.get(audit.action)
    if summary is None:
        return None
    detail = audit.detail
    pool_id = audit.target if audit.action in _POOL_ACTIONS else detail.get("pool_id")
    lead_id = audit.target if audit.action is AdminAction.ASSIGN_TO_REP else None
    data = {
        "event_id": audit.audit_id,
        "action": audit.action.value,
        "actor": audit.actor,
        "role": audit.role,
        "target": audit.target,
        "reason": audit.reason,
        "pool_id": pool_id,
        "rep_id": audit.target if audit.action is AdminAction.REASSIGN_REP_LEADS else None,
        "lead_id": lead_id,
        "summary": summary.format(target=audit.target, rep_id=detail.get("rep_id", "?"),
                                  pool_id=pool_id, leads=detail.get("leads", "?")),
        "lead": lead_summary(None, lead_id or audit.target),
    }  # fmt: skip
    stamp = datetime.fromtimestamp(audit.at_ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")
    body = {"type": f"admin.{audit.action.value}", "timestamp": stamp, "data": data}
    kind = NotificationEvent.ADMIN_ACTION
    return EventPayload(audit.audit_id, kind, audit.target, audit.at_ms, body)


_POOL_ACTIONS = (AdminAction.PAUSE_POOL, AdminAction.RESUME_POOL)


def _payload(
    event_id: str, kind: NotificationEvent, at_ms: int, data: dict[str, Any]
) -> EventPayload:
    stamp = datetime.fromtimestamp(at_ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")
    body = {"type": f"lead.{kind.value}", "timestamp": stamp, "data": data}
    return EventPayload(event_id, kind, str(data["lead_id"]), at_ms, body)


def lead_summary(lead: Lead | None, lead_id: str) -> dict[str, Any]:
    """The lead as messages show it; `display` is the best name there is for it."""
    if lead is None:
        return dict.fromkeys(_LEAD_FIELDS) | {"lead_id": lead_id, "display": lead_id}
    name = " ".join(p for p in (lead.first_name, lead.last_name) if p)
    display = ", ".join(p for p in (name, lead.company) if p) or lead.email or lead_id
    return {
        "lead_id": lead_id,
        "display": display,
        "channel": lead.channel.value,
        "email": lead.email,
        "phone": lead.phone,
        "company": lead.company,
        "country": lead.country,
        "product": lead.product,
        "deal_value": lead.deal_value,
        "message": lead.message,
    }


def render(payload: EventPayload, recipient: str, config: Notifications) -> Message:
    """The texts for `recipient` (a person's or pool's id, or a subscriber's channel)."""
    link = None
    if config.console_url is not None:
        link = config.console_url.replace("{lead_id}", payload.lead_id)
    data = payload.body["data"]
    context = {"data": data, "lead": data["lead"], "recipient": recipient, "link": link}
    override = config.templates.get(payload.event_type)
    sources = dict(DEFAULTS[payload.event_type])
    if override is not None:
        sources.update(override.model_dump(exclude_none=True))
    defaults = DEFAULTS[payload.event_type]

    def text(field: str, autoescape: bool) -> str:
        try:
            return _template(sources[field], autoescape).render(context)
        except Exception:  # a config template may fail in any way as it runs: fall back
            return _template(defaults[field], autoescape).render(context)

    return Message(
        subject=text("subject", False).strip(),
        text=text("text", False),
        html=text("html", True),
        short=text("sms", False).strip(),
        link=link,
    )


@cache
def _template(source: str, autoescape: bool) -> Template:
    # A name a template misspells renders empty: a typo must not stop the notification.
    environment = SandboxedEnvironment(autoescape=autoescape)
    return environment.from_string(source)
