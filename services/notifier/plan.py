"""Who an event concerns, and the deliveries it makes: one per person (or pool) and contact point.

    assigned    the rep, the pool
    unassigned  the pool, the pool's manager
    escalated   the owner, the escalation's target (a manager, when it names one), the pool
    admin       a console action (`admin.audit`): its pool and the pool's manager; for a rep's
                leads sent back to routing, each of the rep's pools and their managers
    every lead event  the subscribers (CRMs, in-house tools)

A person in their quiet hours gets the message when those end; webhooks are machines and go at
once. Pure: the event's own time decides what is quiet, so a replay plans the same deliveries.
"""

from __future__ import annotations

import json

from services.leads.notification_config import (
    ContactPoint,
    NotificationEvent,
    WebhookPoint,
    address_of,
    quiet_until,
)
from services.leads.routing_config import RoutingConfig
from services.notifier.deliveries import Delivery, notification_id
from services.notifier.messages import EventPayload, render

SUBSCRIBER = "subscriber"


def recipients(payload: EventPayload, config: RoutingConfig) -> list[str]:
    """The ids of the people and pools `payload` concerns, in a stable order, no repeats."""
    data = payload.body["data"]
    pool_id: str = data["pool_id"]
    wanted: list[str | None] = []
    if payload.event_type is NotificationEvent.ADMIN_ACTION:
        pools = [pool_id] if pool_id else [p.id for p in config.pools_of(data["rep_id"] or "")]
        for pool in pools:
            wanted += [pool, config.pool(pool).manager if config.has_pool(pool) else None]
    elif payload.event_type is NotificationEvent.ASSIGNED:
        wanted = [data["rep_id"], pool_id]
    elif payload.event_type is NotificationEvent.UNASSIGNED:
        manager = config.pool(pool_id).manager if config.has_pool(pool_id) else None
        wanted = [pool_id, manager]
    else:
        wanted = [data["rep_id"], data["target"], pool_id]
    seen: list[str] = []
    for who in wanted:
        if who is not None and who not in seen:
            seen.append(who)
    return seen


def plan(payload: EventPayload, config: RoutingConfig) -> list[Delivery]:
    """Every delivery `payload` makes under `config`; none when nobody has contact points."""
    section = config.notifications
    body = json.dumps(payload.body, separators=(",", ":"), sort_keys=True)
    deliveries: dict[str, Delivery] = {}
    targets: list[tuple[str, ContactPoint, int]] = []
    for who in recipients(payload, config):
        contact = section.contacts.get(who)
        if contact is None:
            continue
        default_zone = config.rep(who).time_zone if config.has_rep(who) else "UTC"
        zone_name = contact.time_zone or default_zone
        quiet_end = quiet_until(contact.quiet_hours, zone_name, payload.occurred_at_ms)
        for point in contact.points:
            waits = quiet_end is not None and not isinstance(point, WebhookPoint)
            targets.append((who, point, quiet_end if waits and quiet_end else 0))
    if payload.event_type is not NotificationEvent.ADMIN_ACTION:
        targets += [(SUBSCRIBER, point, 0) for point in section.subscribers]
    for who, point, not_before in targets:
        nid = notification_id(payload.event_id, who, point.channel, address_of(point))
        if nid in deliveries:
            continue
        message = render(payload, who, section)
        deliveries[nid] = Delivery(
            notification_id=nid,
            event_id=payload.event_id,
            event_type=payload.event_type,
            lead_id=payload.lead_id,
            recipient=who,
            point=point.model_dump(exclude_none=True),
            message={
                "subject": message.subject,
                "text": message.text,
                "html": message.html,
                "short": message.short,
                "link": message.link,
            },
            payload=body,
            created_at_ms=payload.occurred_at_ms,
            next_at_ms=max(not_before, payload.occurred_at_ms),
        )
    return list(deliveries.values())
