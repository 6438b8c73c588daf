"""The demo feed: leads through the real front doors, reps stepping away and back, first touches.

`DemoFeed.run(stop)` loops until `stop` is set. Each turn it sends the leads due at the
configured rate (forms and chat over HTTP, SMS as signed Twilio webhooks, email over SMTP),
publishes presence changes to `reps.presence` now and then, and, for the share of new
assignments `feed_plan` picks, a `first_touch` to `leads.activity` a few seconds later (and for
some of those a `closed_won`/`closed_lost` after that, which releases the rep's capacity); the
other leads run into their SLA, so reassignments and escalations show up within minutes.
What it did is counted in `stats` and logged one line per event.
"""

from __future__ import annotations

import heapq
import logging
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
from confluent_kafka import Producer

from services.console.assignment_feed import AssignmentFeed
from services.demo.feed_plan import (
    TouchPlan,
    closing,
    first_touch_delay_ms,
    next_channel,
    presence_changes,
)
from services.demo.front_doors import FrontDoorClient
from services.demo.people import make_prospect
from services.leads.events import (
    ActivityType,
    LeadActivity,
    Outcome,
    PresenceStatus,
    RepPresence,
)
from services.leads.topics import Topic
from services.streaming.cloudevents import ce_headers
from services.streaming.codec import AvroCodec
from services.streaming.settings import KafkaSettings

log = logging.getLogger("leadrouter.demo")


@dataclass(frozen=True, slots=True)
class FeedSettings:
    rate_per_s: float = 1.0
    touch: TouchPlan = field(default_factory=TouchPlan)
    presence_every_s: float = 20.0
    away_for_ms: int = 60_000
    max_away: int = 2
    seed: int | None = None


@dataclass(order=True, frozen=True, slots=True)
class _Touch:
    due_ms: int
    lead_id: str
    rep_id: str
    assignment_id: str
    activity: ActivityType = ActivityType.FIRST_TOUCH


class DemoFeed:
    def __init__(
        self,
        settings: KafkaSettings,
        client: FrontDoorClient,
        reps: Sequence[str],
        feed: FeedSettings = FeedSettings(),
    ) -> None:
        self.settings = settings
        self.client = client
        self.reps = list(reps)
        self.feed = feed
        self.rng = random.Random(feed.seed)
        self.stats: Counter[str] = Counter()
        self._activity = AvroCodec(LeadActivity)
        self._presence = AvroCodec(RepPresence)
        self._touches: list[_Touch] = []
        self.failure: str | None = None
        self._away: list[str] = []

    def run(self, stop: threading.Event) -> None:
        """Feed until `stop` is set. A failure is logged and kept in `failure` (the view shows
        it), never raised into a thread nobody joins."""
        try:
            self._run(stop)
        except Exception as exc:
            self.failure = f"demo feed stopped: {type(exc).__name__}: {exc}"
            log.exception("demo feed stopped")

    def _run(self, stop: threading.Event) -> None:
        assignments = AssignmentFeed(self.settings, from_beginning=False)
        # Made here, not in __init__, so it is gone (no reconnect attempts) once run returns.
        producer = Producer(self.settings.producer())
        started = time.monotonic()
        next_presence = started + self.feed.presence_every_s
        try:
            while not stop.is_set():
                for item in assignments.poll(0.1):
                    if item.assignment is not None and item.assignment.outcome is Outcome.ASSIGNED:
                        self._plan_touch(
                            item.assignment.lead_id,
                            item.assignment.rep_id or "",
                            item.assignment.attempt,
                            item.assignment.assignment_id,
                        )
                due_leads = int((time.monotonic() - started) * self.feed.rate_per_s)
                while self.stats["sent"] < due_leads and not stop.is_set():
                    self._send_lead()
                self._publish_due_touches(producer)
                if time.monotonic() >= next_presence and self.reps:
                    self._change_presence(producer)
                    next_presence = time.monotonic() + self.feed.presence_every_s
                producer.poll(0)
        finally:
            assignments.close()
            producer.flush(10)

    def _send_lead(self) -> None:
        channel = next_channel(self.rng)
        prospect = make_prospect(self.rng)
        token = uuid.UUID(int=self.rng.getrandbits(128)).hex
        try:
            delivery = self.client.send(channel, prospect, token, int(time.time() * 1000))
        except httpx.HTTPError as exc:  # SMTP failures come back as a Delivery instead
            self.stats["sent"] += 1
            self.stats["unreachable"] += 1
            log.warning("%s front door unreachable: %s", channel, exc)
            return
        self.stats["sent"] += 1
        self.stats["accepted" if delivery.accepted else "refused"] += 1
        if delivery.accepted:
            log.info("sent %s lead %s (%s)", channel, delivery.lead_id or "", delivery.status)
        else:
            log.warning("%s lead refused: %s %s", channel, delivery.status, delivery.detail)

    def _plan_touch(self, lead_id: str, rep_id: str, attempt: int, assignment_id: str) -> None:
        delay = first_touch_delay_ms(self.feed.touch, lead_id, attempt)
        if delay is None:
            self.stats["left untouched"] += 1
            return
        due = int(time.time() * 1000) + delay
        heapq.heappush(self._touches, _Touch(due, lead_id, rep_id, assignment_id))

    def _publish_due_touches(self, producer: Producer) -> None:
        now_ms = int(time.time() * 1000)
        while self._touches and self._touches[0].due_ms <= now_ms:
            touch = heapq.heappop(self._touches)
            activity = LeadActivity(
                activity_id=f"demo:{touch.assignment_id}:{touch.activity.value}",
                lead_id=touch.lead_id,
                type=touch.activity,
                rep_id=touch.rep_id,
                occurred_at_ms=now_ms,
                source="leadrouter-demo",
            )
            producer.produce(
                self.settings.topic(Topic.ACTIVITY),
                key=touch.lead_id.encode(),
                value=self._activity.encode(activity),
                headers=list(
                    ce_headers(
                        event_id=activity.activity_id,
                        source="leadrouter/demo",
                        event_type="io.leadrouter.lead.activity",
                        time_ms=now_ms,
                        subject=touch.lead_id,
                        schema="io.leadrouter.LeadActivity",
                    )
                ),
            )
            if touch.activity is ActivityType.FIRST_TOUCH:
                self.stats["first touches"] += 1
                closed = closing(self.feed.touch, touch.lead_id)
                if closed is not None:
                    due = now_ms + self.feed.touch.close_after_ms
                    heapq.heappush(
                        self._touches,
                        _Touch(
                            due,
                            touch.lead_id,
                            touch.rep_id,
                            touch.assignment_id,
                            ActivityType(closed),
                        ),
                    )
            else:
                self.stats["closed"] += 1
            log.info("%s on %s by %s", touch.activity.value, touch.lead_id, touch.rep_id)

    def _change_presence(self, producer: Producer) -> None:
        now_ms = int(time.time() * 1000)
        for change in presence_changes(self.rng, self.reps, self._away, self.feed.max_away):
            if change.available:
                self._away.remove(change.rep_id)
            else:
                self._away.append(change.rep_id)
            presence = RepPresence(
                rep_id=change.rep_id,
                status=PresenceStatus.AVAILABLE if change.available else PresenceStatus.AWAY,
                until_ms=None if change.available else now_ms + self.feed.away_for_ms,
                changed_at_ms=now_ms,
            )
            producer.produce(
                self.settings.topic(Topic.REPS_PRESENCE),
                key=change.rep_id.encode(),
                value=self._presence.encode(presence),
            )
            self.stats["presence changes"] += 1
            log.info("%s is now %s", change.rep_id, presence.status.value)
