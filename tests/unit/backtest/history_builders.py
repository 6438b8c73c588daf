"""A recorded history for backtests: leads, presence changes and a config change, and what the
router's own handlers decided with them.

`History.generate` draws everything from `random.Random(seed)`: new people, repeats from
recent ones, exact duplicates; presence changes between leads; and version 2 of the decision
digest's config taking over part way. `record` pushes the leads through `TriageHandler` and
`AssignHandler` over their state stores, one lead per transaction (so owner facts and identity
links reach triage before the next lead, as the backtest assumes), and keeps each lead's
Assignment. With `phones`, some people also leave a phone (some only text, keyed by it), a few
use a switchboard phone many share, and some forms carry a CRM id: the identity graph at work.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry

from services.backtest.backtest import Inbound
from services.backtest.pipeline import ConfigTimeline
from services.leads.events import Assignment, Channel, Lead, PresenceStatus, RepPresence
from services.leads.routing_config import VersionedConfig
from services.router.assign import AssignHandler, AssignTopics
from services.router.identity_graph import IdentityLinks
from services.router.identity_links import IdentityLinker, identity_links_serde
from services.router.identity_state import IdentityState
from services.router.metrics import RouterMetrics
from services.router.ownership import OwnerFact
from services.router.presence import PresenceBook, PresenceView
from services.router.replay import LoggedRecord
from services.router.rotation import RotationRecord
from services.router.rotation_serde import rotation_serde
from services.router.triage import TriageHandler, TriageTopics, identity_serde
from services.streaming.codec import AvroCodec
from services.streaming.records import InputRecord
from services.streaming.state import StateStore
from tests.unit.router.decision_digest import COUNTRIES, LANGUAGES, PRODUCTS, REPS, T0, versioned

TOPICS = AssignTopics(
    requests="routing.requests", assignments="leads.assignments", owners="router.owners"
)


@dataclass
class History:
    leads: list[Inbound] = field(default_factory=list)
    presence: list[tuple[int, RepPresence]] = field(default_factory=list)
    switch_at_ms: int = 0

    @classmethod
    def generate(cls, count: int, seed: int = 7, *, phones: bool = False) -> History:
        rng = random.Random(seed)
        contact = random.Random(seed + 1)  # its own draws: without phones, leads are unchanged
        history = cls()
        at = T0
        sent: list[Lead] = []
        people: list[str] = []  # each lead's person by email, whatever the lead is keyed by
        for n in range(count):
            at += rng.randint(5, 90) * 1000
            if n == count // 3:
                history.switch_at_ms = at
            if rng.random() < 0.2:
                status = rng.choice(tuple(PresenceStatus))
                change = RepPresence(rep_id=rng.choice(REPS), status=status, changed_at_ms=at)
                history.presence.append((at, change))
            if rng.random() < 0.03 and sent:
                history.leads.append(Inbound(rng.choice(sent[-50:]), at))  # an exact duplicate
                continue
            person = rng.choice(people[-20:]) if people and rng.random() < 0.15 else None
            person = person or f"p{rng.randint(0, 800):04d}@c{rng.randint(0, 90)}.example"
            lead = Lead(
                lead_id=f"lead-{n:05d}",
                identity_key=person,
                channel=rng.choice(tuple(Channel)),
                source="form:contact",
                source_message_id=f"msg-{n:05d}",
                received_at_ms=at - 5,
                email=person,
                company_domain=person.split("@")[1] if rng.random() < 0.7 else None,
                country=rng.choice(COUNTRIES),
                language=rng.choice(LANGUAGES),
                product=rng.choice(PRODUCTS),
                deal_value=float(rng.choice((0, 500, 12_000, 45_000, 99_000))),
            )
            if phones:
                lead = _with_contacts(lead, contact)
            sent.append(lead)
            people.append(person)
            history.leads.append(Inbound(lead, at))
        return history

    def timeline(self) -> ConfigTimeline:
        return ConfigTimeline({1: (0, versioned(1)), 2: (self.switch_at_ms, versioned(2))})


SWITCHBOARD = "+15550000000"


def _with_contacts(lead: Lead, rng: random.Random) -> Lead:
    """`lead` with its person's phone (or the switchboard's), keyed by it if only texted."""
    person = int(lead.identity_key[1:5])
    draw = rng.random()
    if draw < 0.5:
        return lead
    phone = SWITCHBOARD if draw < 0.56 else f"+1555{person:07d}"
    update: dict[str, object] = {"phone": phone}
    if draw > 0.85 and phone != SWITCHBOARD:  # a text: the phone alone
        update |= {"identity_key": phone, "email": None, "channel": Channel.SMS}
    elif rng.random() < 0.2:
        update["attributes"] = {"crm_id": f"C{person // 2}"}  # two people per CRM account: shared
    return lead.model_copy(update=update)


@dataclass
class Recording:
    """What the handlers did: each lead's Assignment (None: dropped as a duplicate), and the
    logs a replay reads back."""

    decided: list[Assignment | None] = field(default_factory=list)
    inbound: list[LoggedRecord] = field(default_factory=list)
    requests: list[LoggedRecord] = field(default_factory=list)
    assignments: list[bytes] = field(default_factory=list)


def record(history: History) -> Recording:
    """Push `history` through the router's handlers, one lead per transaction."""
    current: list[VersionedConfig] = [versioned(1)]
    owners: dict[str, OwnerFact] = {}
    book = PresenceBook()
    identity: StateStore[IdentityState] = StateStore("router.identity", identity_serde())
    rotation: StateStore[RotationRecord] = StateStore("router.rotation", rotation_serde())
    links: StateStore[IdentityLinks] = StateStore("router.identity-links", identity_links_serde())
    identity.adopt(0)
    rotation.adopt(0)
    links.adopt(0)
    topics = TriageTopics(TOPICS.requests)
    triage = TriageHandler(
        topics,
        identity,
        config=lambda: current[0],
        owners=lambda: owners,
        linker=IdentityLinker(topics.link_requests, links, dict),  # one partition: all in store
    )
    assign = AssignHandler(
        topics=TOPICS,
        store=rotation,
        config=lambda: current[0],
        presence=lambda: PresenceView(book.status_at, (len(book_seen),)),
        metrics=RouterMetrics.create(CollectorRegistry()),
        monotonic=lambda: 0.0,
    )
    leads, facts, assignments = AvroCodec(Lead), AvroCodec(OwnerFact), AvroCodec(Assignment)
    book_seen: list[RepPresence] = []
    recording = Recording()
    decided = recording.decided
    changes = iter(history.presence)
    pending = next(changes, None)
    for offset, item in enumerate(history.leads):
        while pending is not None and pending[0] <= item.at_ms:
            book.record(pending[1])
            book_seen.append(pending[1])
            pending = next(changes, None)
        if item.at_ms >= history.switch_at_ms:
            current[0] = versioned(2)
        key = item.lead.identity_key.encode()
        inbound = InputRecord("leads.inbound", 0, offset, key, leads.encode(item.lead), item.at_ms)
        recording.inbound.append(_logged(inbound))
        queue = []
        for out in triage(inbound):
            if out.topic == topics.link_requests:  # applied by the owning partition: this one
                triage(InputRecord(out.topic, 0, offset, out.key, out.value, item.at_ms))
            else:
                queue.append(out)
        decided.append(None)
        while queue:
            out = queue.pop(0)
            request = InputRecord(TOPICS.requests, 0, offset, out.key, out.value, item.at_ms)
            recording.requests.append(_logged(request))
            for output in assign.handle(request):
                if output.topic == TOPICS.requests:
                    queue.append(output)  # a fallback: the next pool decides
                elif output.topic == TOPICS.owners and output.value is not None:
                    fact = facts.decode(output.value)
                    owners[fact.subject] = fact
                elif output.topic == TOPICS.assignments and output.value is not None:
                    decided[-1] = assignments.decode(output.value)
                    recording.assignments.append(output.value)
        for store in (identity, rotation, links):
            store.flush()
            store.commit()
    return recording


def _logged(record: InputRecord) -> LoggedRecord:
    return LoggedRecord(record.topic, record.partition, record.offset, record.timestamp_ms,
                        record.key, record.value)  # fmt: skip


def comparable(assignment: Assignment) -> Assignment:
    """The Assignment without what says where it was read (topic, offset, presence position)."""
    trace = assignment.trace.model_copy(
        update={"input_topic": "", "input_partition": 0, "input_offset": 0, "presence_position": ()}
    )
    return assignment.model_copy(update={"trace": trace})
