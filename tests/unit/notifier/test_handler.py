"""The handler and the sender stage together, with channels that answer as told: events become
pending deliveries once; answers move them to sent, a later retry, or a dead letter; a channel
that hangs holds up no other."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from prometheus_client import CollectorRegistry

from services.leads.events import (
    Assignment,
    DeadLetter,
    Escalation,
    EscalationStep,
    Outcome,
    RequestKind,
)
from services.notifier.channels import Channel
from services.notifier.deliveries import Answer, Delivery, Failed, RetryPolicy, Sent, Status
from services.notifier.delivery_store import DeliveryStore
from services.notifier.handler import NotifierHandler, NotifierTopics
from services.notifier.messages import assignment_payload
from services.notifier.metrics import NotifierMetrics
from services.notifier.sender import Sender
from services.streaming.codec import AvroCodec
from services.streaming.records import InputRecord, OutputRecord
from tests.unit.notifier.builders import T0, make_assignment, make_config

TOPICS = NotifierTopics("leads.assignments", "leads.escalations", "notifier.dead-letter")
CONTACTS = {
    "ann": {"points": [{"channel": "email", "to": "ann@x.io"}]},
    "inside": {"points": [{"channel": "slack", "webhook_url": "https://h.example/s"}]},
}


class Told:
    """A channel answering from a function of the delivery, remembering what it was sent."""

    def __init__(self, answer: Callable[[Delivery], Answer]) -> None:
        self.answer = answer
        self.sent: list[str] = []

    def send(self, delivery: Delivery) -> Answer:
        self.sent.append(delivery.notification_id)
        return self.answer(delivery)

    def close(self) -> None:
        pass


def record(assignment: Assignment, offset: int = 0) -> InputRecord:
    value = AvroCodec(Assignment).encode(assignment)
    return InputRecord(TOPICS.assignments, 0, offset, assignment.lead_id.encode(), value, T0)


def notifier(channels: dict[str, Channel]) -> tuple[NotifierHandler, Sender]:
    store = DeliveryStore("notifier.deliveries")
    store.adopt(0)
    sender = Sender(channels, {})
    config = make_config({"contacts": CONTACTS})
    handler = NotifierHandler(
        TOPICS,
        store,
        sender,
        lambda: config,
        NotifierMetrics.create(CollectorRegistry()),
        RetryPolicy(max_attempts=2, base_ms=1_000, cap_ms=1_000),
    )
    return handler, sender


@pytest.fixture
def closing() -> Iterator[list[Sender]]:
    senders: list[Sender] = []
    yield senders
    for sender in senders:
        sender.close()


def settle(handler: NotifierHandler, now_ms: int, done: Callable[[], bool]) -> list[OutputRecord]:
    """Tick until `done`, as the loop would; commit after each tick."""
    outputs: list[OutputRecord] = []
    deadline = time.monotonic() + 10
    while not done():
        assert time.monotonic() < deadline, "the sender never answered"
        outputs += handler.tick(0, now_ms)
        handler.store.commit()
        time.sleep(0.01)
    return outputs


def test_an_event_is_planned_once_and_each_delivery_sent_once(closing: list[Sender]) -> None:
    email, slack = Told(lambda d: Sent()), Told(lambda d: Sent("ts"))
    handler, sender = notifier({"email": email, "slack": slack})
    closing.append(sender)
    handler.handle(record(make_assignment()))
    handler.handle(record(make_assignment(), offset=1))  # the same event again: nothing new
    handler.store.commit()
    settle(handler, T0, lambda: not list(handler.store.pending(0)))
    handler.tick(0, T0 + 60_000)  # a later tick offers nothing again
    assert sender.queued() == {"email": 0, "slack": 0}
    statuses = sorted(d.status for _, d in handler.store.items(0))
    assert statuses == [Status.SENT, Status.SENT]
    assert (len(email.sent), len(slack.sent)) == (1, 1)


def test_a_retry_waits_for_its_time_then_a_dead_letter_carries_the_last_answer(
    closing: list[Sender],
) -> None:
    email = Told(lambda d: Failed(True, "4.7.1 greylisted", 451, 5.0))
    handler, sender = notifier({"email": email, "slack": Told(lambda d: Sent())})
    closing.append(sender)
    handler.handle(record(make_assignment()))
    handler.store.commit()

    def the_email() -> Delivery:
        (found,) = [d for _, d in handler.store.items(0) if d.channel == "email"]
        return found

    settle(handler, T0, lambda: the_email().attempts == 1)
    assert the_email().status is Status.PENDING
    assert the_email().next_at_ms == T0 + 5_000  # Retry-After outweighs a 1 s backoff
    handler.tick(0, T0 + 4_999)
    assert len(email.sent) == 1  # not due yet
    letters = settle(handler, T0 + 5_000, lambda: the_email().status is Status.DEAD)
    (letter,) = letters
    dead = AvroCodec(DeadLetter).decode(letter.value or b"")
    assert (letter.topic, dead.reason) == ("notifier.dead-letter", "notification_exhausted")
    assert dead.detail == "after 2 attempt(s): 451 4.7.1 greylisted"
    original = json.loads(dead.original_value or b"{}")
    assert original["point"] == {"channel": "email", "to": "ann@x.io"}
    assert len(email.sent) == 2


def test_a_hanging_channel_holds_up_no_other(closing: list[Sender]) -> None:
    release = threading.Event()

    def hang(_: Delivery) -> Answer:
        release.wait(10)
        return Sent()

    slack = Told(lambda d: Sent())
    handler, sender = notifier({"email": Told(hang), "slack": slack})
    closing.append(sender)
    for n in range(10):
        handler.handle(record(make_assignment(f"lead-{n}"), offset=n))
    handler.store.commit()
    settle(
        handler,
        T0,
        lambda: (
            len(slack.sent) == 10
            and not any(d.channel == "slack" for d in handler.store.pending(0))
        ),
    )
    pending = [d.channel for d in handler.store.pending(0)]
    release.set()
    assert pending == ["email"] * 10


def test_the_webhook_payload_is_the_events_documented_form() -> None:
    body = assignment_payload(make_assignment()).body
    assert body["type"] == "lead.assigned"
    assert body["timestamp"] == "2026-05-28T20:26:40Z"
    assert body["data"]["rep_id"] == "ann"


def test_a_hanging_endpoint_holds_up_no_other_endpoint_of_its_channel(
    closing: list[Sender],
) -> None:
    release = threading.Event()

    def answer(delivery: Delivery) -> Answer:
        if "hangs.example" in delivery.point["url"]:
            release.wait(10)
        return Sent()

    webhook = Told(answer)
    store = DeliveryStore("notifier.deliveries")
    store.adopt(0)
    sender = Sender({"webhook": webhook}, {}, workers=4)
    closing.append(sender)
    subscribers = [
        {"channel": "webhook", "url": "https://hangs.example/h"},
        {"channel": "webhook", "url": "https://fine.example/h"},
    ]
    config = make_config({"subscribers": subscribers})
    handler = NotifierHandler(
        TOPICS, store, sender, lambda: config, NotifierMetrics.create(CollectorRegistry())
    )
    for n in range(10):
        handler.handle(record(make_assignment(f"lead-{n}"), offset=n))
    store.commit()
    settle(handler, T0, lambda: not any("fine" in d.point["url"] for d in store.pending(0)))
    waiting = [d.point["url"] for d in store.pending(0)]
    release.set()
    assert waiting == ["https://hangs.example/h"] * 10


def test_escalations_are_planned_and_releases_tell_nobody(closing: list[Sender]) -> None:
    handler, sender = notifier({})
    closing.append(sender)
    escalation = Escalation(
        escalation_id="lead-1#e1",
        lead_id="lead-1",
        assignment_id="lead-1#a1",
        pool_id="inside",
        policy_id="quick",
        step=EscalationStep.NOTIFY,
        rep_id="ann",
        target=None,
        attempt=1,
        reason="half the deadline passed",
        due_at_ms=T0,
        fired_at_ms=T0,
    )
    value = AvroCodec(Escalation).encode(escalation)
    handler.handle(InputRecord(TOPICS.escalations, 0, 0, b"lead-1", value, T0))
    released = make_assignment(outcome=Outcome.RELEASED, kind=RequestKind.RELEASE)
    handler.handle(record(released, offset=1))
    planned = sorted((d.recipient, d.event_type.value) for _, d in handler.store.items(0))
    assert planned == [("ann", "escalated"), ("inside", "escalated")]
