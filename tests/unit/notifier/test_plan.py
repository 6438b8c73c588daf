"""Who hears about an event, by which points, with which texts and ids."""

from __future__ import annotations

import json

from services.leads.events import Escalation, EscalationStep
from services.notifier.deliveries import notification_id
from services.notifier.messages import assignment_payload, escalation_payload, render
from services.notifier.plan import plan
from tests.unit.notifier.builders import T0, make_assignment, make_config
from tests.unit.sla_watcher.builders import make_lead

CONTACTS = {
    "ann": {"quiet_hours": "21:00-07:00", "points": [{"channel": "email", "to": "ann@x.io"}]},
    "inside": {"points": [{"channel": "slack", "webhook_url": "https://h.example/s"}]},
    "maria": {"points": [{"channel": "sms", "to": "+4915123456789"}]},
}


def test_an_assignment_reaches_the_rep_the_pool_and_every_subscriber() -> None:
    config = make_config(
        {"contacts": CONTACTS, "subscribers": [{"channel": "webhook", "url": "https://c/h"}]}
    )
    deliveries = plan(assignment_payload(make_assignment(decided_at_ms=T0)), config)
    assert [(d.recipient, d.channel) for d in deliveries] == [
        ("ann", "email"),
        ("inside", "slack"),
        ("subscriber", "webhook"),
    ]
    assert deliveries[0].notification_id == notification_id("lead-1#a1", "ann", "email", "ann@x.io")


def test_the_same_event_plans_the_same_ids_and_another_event_other_ones() -> None:
    config = make_config({"contacts": CONTACTS})
    first = plan(assignment_payload(make_assignment()), config)
    again = plan(assignment_payload(make_assignment()), config)
    other = plan(assignment_payload(make_assignment(attempt=2)), config)
    assert [d.notification_id for d in first] == [d.notification_id for d in again]
    assert not {d.notification_id for d in first} & {d.notification_id for d in other}


def test_a_person_in_quiet_hours_hears_when_they_end_and_a_webhook_at_once() -> None:
    contacts = CONTACTS | {
        "ann": {
            "quiet_hours": "21:00-07:00",
            "points": [
                {"channel": "email", "to": "a@x.io"},
                {"channel": "webhook", "url": "https://a/h"},
            ],
        }
    }
    # T0 is 22:26 in Berlin, ann's zone: quiet until 07:00 there, 05:00 UTC.
    deliveries = plan(assignment_payload(make_assignment()), make_config({"contacts": contacts}))
    email, webhook = deliveries[0], deliveries[1]
    assert email.next_at_ms == T0 + (8 * 60 + 33) * 60_000 + 20_000
    assert webhook.next_at_ms == T0


def test_an_unassigned_lead_reaches_the_pool_and_its_manager() -> None:
    config = make_config({"contacts": CONTACTS})
    deliveries = plan(assignment_payload(make_assignment(rep_id=None)), config)
    assert [(d.recipient, d.event_type.value) for d in deliveries] == [
        ("inside", "unassigned"),
        ("maria", "unassigned"),
    ]


def test_an_escalation_reaches_owner_target_and_pool() -> None:
    escalation = Escalation(
        escalation_id="lead-1#e1",
        lead_id="lead-1",
        assignment_id="lead-1#a1",
        pool_id="inside",
        policy_id="quick",
        step=EscalationStep.ESCALATE,
        rep_id="ann",
        target="maria",
        attempt=3,
        reason="missed first touch",
        due_at_ms=T0,
        fired_at_ms=T0,
    )
    deliveries = plan(escalation_payload(escalation), make_config({"contacts": CONTACTS}))
    assert [d.recipient for d in deliveries] == ["ann", "maria", "inside"]
    body = json.loads(deliveries[0].payload)
    assert body["type"] == "lead.escalated"
    assert body["data"]["step"] == "escalate"


def test_html_is_autoescaped_and_text_is_not_and_overrides_apply() -> None:
    lead = make_lead(first_name="<script>", company="Acme & Co", message="hi <b>")
    payload = assignment_payload(make_assignment(lead=lead))
    config = make_config(
        {
            "console_url": "https://c.example/leads/{lead_id}",
            "templates": {"assigned": {"subject": "For {{ recipient }}: {{ lead.company }}"}},
        }
    )
    message = render(payload, "ann", config.notifications)
    assert message.subject == "For ann: Acme & Co"
    assert "&lt;script&gt;, Acme &amp; Co" in message.html
    assert "<script>" not in message.html
    assert "<script>, Acme & Co" in message.text
    assert message.link == "https://c.example/leads/lead-1"
    assert 'href="https://c.example/leads/lead-1"' in message.html


def test_nobody_with_contact_points_means_no_deliveries() -> None:
    assert plan(assignment_payload(make_assignment()), make_config()) == []


def test_a_template_failing_as_it_renders_falls_back_to_the_built_in_one() -> None:
    payload = assignment_payload(make_assignment())
    config = make_config(
        {
            "templates": {
                "assigned": {"subject": "{{ lead.__class__.__mro__ }}", "sms": "{{ 1 / 0 }}"}
            }
        }
    )
    message = render(payload, "ann", config.notifications)
    assert message.subject == "New lead for ann: lead-1"
    assert message.short.startswith("New lead: ")
