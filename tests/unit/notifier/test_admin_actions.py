"""Console actions on `admin.audit`: the pool's manager and the pool hear of manual moves and
pauses; presence changes and config publishes, and subscribers, hear nothing of them."""

from __future__ import annotations

from services.leads.events import AdminAction, AdminAudit
from services.leads.notification_config import NotificationEvent
from services.notifier.messages import audit_payload, render
from services.notifier.plan import plan
from tests.unit.notifier.builders import T0, make_config

CONTACTS = {
    "inside": {"points": [{"channel": "slack", "webhook_url": "https://h.example/s"}]},
    "maria": {"points": [{"channel": "email", "to": "maria@x.io"}]},
}
SUBSCRIBERS = [{"channel": "webhook", "url": "https://crm.example/h"}]


def make_audit(action: AdminAction, target: str, **detail: str) -> AdminAudit:
    return AdminAudit(
        audit_id=f"audit-{action.value}", actor="olga", role="operator", action=action,
        target=target, reason="team offsite", at_ms=T0, detail=detail,
    )  # fmt: skip


def planned(audit: AdminAudit) -> list[tuple[str, str]]:
    payload = audit_payload(audit)
    config = make_config({"contacts": CONTACTS, "subscribers": SUBSCRIBERS})
    return [] if payload is None else [(d.recipient, d.channel) for d in plan(payload, config)]


def test_a_paused_pool_is_told_to_the_pool_and_its_manager_not_to_subscribers() -> None:
    assert planned(make_audit(AdminAction.PAUSE_POOL, "inside")) == [
        ("inside", "slack"),
        ("maria", "email"),
    ]


def test_a_manual_reassignment_reaches_the_manager_of_the_leads_pool() -> None:
    audit = make_audit(AdminAction.ASSIGN_TO_REP, "lead-7", rep_id="bob", pool_id="inside")
    assert planned(audit) == [("inside", "slack"), ("maria", "email")]
    payload = audit_payload(audit)
    assert payload is not None and payload.event_type is NotificationEvent.ADMIN_ACTION
    message = render(payload, "maria", make_config().notifications)
    assert message.subject == "olga: lead lead-7 reassigned by hand to bob in pool inside"
    assert "Reason: team offsite" in message.text


def test_sending_a_reps_leads_back_reaches_every_pool_of_the_rep() -> None:
    audit = make_audit(AdminAction.REASSIGN_REP_LEADS, "ann", leads="3")
    assert planned(audit) == [("inside", "slack"), ("maria", "email")]


def test_presence_changes_and_config_publishes_are_not_told() -> None:
    assert planned(make_audit(AdminAction.SET_PRESENCE, "ann", status="away")) == []
    assert planned(make_audit(AdminAction.PUBLISH_CONFIG, "config v3")) == []


def test_the_same_action_plans_the_same_notification_ids() -> None:
    config = make_config({"contacts": CONTACTS})
    first, again = (audit_payload(make_audit(AdminAction.RESUME_POOL, "inside")) for _ in "ab")
    assert first is not None and again is not None
    assert [d.notification_id for d in plan(first, config)] == [
        d.notification_id for d in plan(again, config)
    ]
