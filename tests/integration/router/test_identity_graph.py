"""One person on every channel, on the real broker: the fused router on `TransactionalLoop`.

An SMS, then a form with the same phone and a new email, then a chat with that email reach the
same rep, each request naming the link that joined it; fifty people sharing a switchboard phone
are merged with nobody, and the guard shows in the trace and in the metrics.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from confluent_kafka import Consumer, Producer
from prometheus_client import CollectorRegistry

from services.leads.events import Assignment, Channel, Lead, Outcome, RoutingRequest
from services.leads.topics import Topic
from services.router.app import Stage, build_router_processor
from services.router.config_source import publish_config
from services.router.identity_graph import IdentityLinks
from services.router.identity_links import identity_links_serde
from services.streaming.codec import AvroCodec
from services.streaming.loop import LoopSettings, TransactionalLoop
from services.streaming.memory_cluster import key_partition
from services.streaming.records import SystemClock
from services.streaming.settings import KafkaSettings
from services.streaming.state import read_to_end
from tests.unit.router.config_builders import make_lead

pytestmark = pytest.mark.integration
LEADS, REQUESTS, DECISIONS = AvroCodec(Lead), AvroCodec(RoutingRequest), AvroCodec(Assignment)

CONFIG = """\
reps:
  - {id: ann, name: Ann, email: ann@example.com}
  - {id: bob, name: Bob, email: bob@example.com}
  - {id: cy, name: Cy, email: cy@example.com}
pools:
  - id: all
    members: [{rep: ann}, {rep: bob}, {rep: cy}]
default_pool: all
continuity: {person_window: 30d, company_domain_window: 0, dedup_window: 0}
"""


@contextmanager
def running_router(settings: KafkaSettings, registry: CollectorRegistry) -> Iterator[None]:
    processor = build_router_processor(settings, registry, SystemClock(), Stage.ALL)
    loop = TransactionalLoop(
        processor, settings, LoopSettings(instance=0, commit_interval_ms=100), registry
    )
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        loop.stop()
        thread.join(30)
        assert not thread.is_alive(), "the router loop did not stop"


class Outputs:
    """Requests and decisions read as they commit, by lead id."""

    def __init__(self, settings: KafkaSettings) -> None:
        self.consumer = Consumer(settings.consumer(f"check-{uuid.uuid4().hex}"))
        self.requests_topic = settings.topic(Topic.ROUTING_REQUESTS)
        self.consumer.subscribe([self.requests_topic, settings.topic(Topic.ASSIGNMENTS)])
        self.requests: dict[str, RoutingRequest] = {}
        self.decisions: dict[str, Assignment] = {}

    def wait(self, lead_ids: list[str], deadline_s: float = 60) -> None:
        deadline = time.monotonic() + deadline_s
        while not all(i in self.decisions and i in self.requests for i in lead_ids):
            assert time.monotonic() < deadline, f"not all of {lead_ids} decided in {deadline_s} s"
            for message in self.consumer.consume(500, timeout=0.5):
                if message.error() or message.value() is None:
                    continue
                if message.topic() == self.requests_topic:
                    request = REQUESTS.decode(message.value())
                    self.requests.setdefault(request.lead_id, request)
                else:
                    decision = DECISIONS.decode(message.value())
                    self.decisions[decision.lead_id] = decision
        time.sleep(0.5)  # the owner and link tables catch up before the next lead is sent

    def close(self) -> None:
        self.consumer.close()


def link_records(settings: KafkaSettings) -> dict[str, tuple[int, IdentityLinks]]:
    """router.identity-links as committed: identifier -> (partition, record)."""
    records: dict[str, tuple[int, IdentityLinks]] = {}

    def keep(partition: int, key: bytes | None, value: bytes | None) -> None:
        assert key is not None and value is not None
        records[key.decode()] = (partition, identity_links_serde().decode(value))

    read_to_end(settings, settings.topic(Topic.IDENTITY_LINKS), [0, 1, 2, 3], keep)
    return records


def send(settings: KafkaSettings, leads: list[Lead]) -> None:
    producer = Producer(settings.producer())
    for lead in leads:
        producer.produce(
            settings.topic(Topic.INBOUND), key=lead.identity_key, value=LEADS.encode(lead)
        )
    assert producer.flush(30) == 0


def contact(lead_id: str, channel: Channel, **fields: object) -> Lead:
    """A lead received now: owners are decided at the router's wall-clock time, and continuity
    keeps only owners decided before the lead arrived."""
    email, phone = fields.get("email"), fields.get("phone")
    return make_lead(
        lead_id,
        channel=channel,
        identity_key=email or phone,
        received_at_ms=int(time.time() * 1000),
        company_domain=None,
        **fields,
    )


def test_an_sms_a_form_and_a_chat_of_one_person_reach_the_same_rep_naming_the_link(
    topics: KafkaSettings,
) -> None:
    publish_config(topics, CONFIG, published_by="test", now_ms=1)
    phone, email = "+15550001234", "jo@home.example"
    leads: dict[str, Callable[[], Lead]] = {
        "L-sms": lambda: contact("L-sms", Channel.SMS, phone=phone, email=None),
        "L-other-0": lambda: contact("L-other-0", Channel.FORM, email="o0@x.example"),
        "L-form": lambda: contact("L-form", Channel.FORM, phone=phone, email=email),
        "L-other-1": lambda: contact("L-other-1", Channel.FORM, email="o1@x.example"),
        "L-chat": lambda: contact(
            "L-chat", Channel.CHAT, email=email, attributes={"visitor.id": "v9"}
        ),
    }
    outputs = Outputs(topics)
    try:
        with running_router(topics, CollectorRegistry()):
            for lead_id, lead in leads.items():
                send(topics, [lead()])
                outputs.wait([lead_id])
            deadline = time.monotonic() + 30  # the chat's link requests: a transaction later
            while len(link_records(topics)) < 3 and time.monotonic() < deadline:
                time.sleep(0.2)
    finally:
        outputs.close()

    reps = {i: d.rep_id for i, d in outputs.decisions.items()}
    assert {d.outcome for d in outputs.decisions.values()} == {Outcome.ASSIGNED}
    assert reps["L-sms"] == reps["L-form"] == reps["L-chat"]
    assert reps["L-other-0"] != reps["L-sms"] != reps["L-other-1"]  # round robin moved on
    assert "person" not in outputs.requests["L-sms"].reason
    assert f"(via phone {phone} on this lead)" in outputs.requests["L-form"].reason
    chat_reason = outputs.requests["L-chat"].reason
    assert f"person's owner {reps['L-sms']} from L-sms" in chat_reason
    assert f"via phone {phone} linked by lead L-form at " in chat_reason
    assert outputs.requests["L-chat"].preferred_owner == reps["L-sms"]
    # The Assignment, what a CRM reads, names the link as well: the preferred owner's why.
    for lead_id in ("L-form", "L-chat"):
        assert f"via phone {phone}" in outputs.decisions[lead_id].reason, lead_id
    assert "preferred owner: person's owner" in outputs.decisions["L-chat"].reason

    # Each record sits on the partition leads.inbound puts its key on (written by its owner).
    records = link_records(topics)
    assert set(records) == {phone, email, "chat:v9"}
    for identifier, (partition, _record) in records.items():
        assert partition == key_partition(identifier.encode(), 4), identifier
    linked = {i: {(x.identifier, x.lead_id) for x in r.links} for i, (_p, r) in records.items()}
    assert linked == {
        phone: {(email, "L-form")},
        email: {(phone, "L-form"), ("chat:v9", "L-chat")},
        "chat:v9": {(email, "L-chat")},
    }


def test_fifty_people_behind_one_switchboard_phone_are_merged_with_nobody(
    topics: KafkaSettings,
) -> None:
    publish_config(topics, CONFIG, published_by="test", now_ms=1)
    switchboard = "+15550009999"
    people = [
        contact(f"L-{n}", Channel.FORM, phone=switchboard, email=f"p{n}@acme.co") for n in range(50)
    ]
    registry = CollectorRegistry()
    outputs = Outputs(topics)
    try:
        with running_router(topics, registry):
            for wave in (people[:2], people[2:10], people[10:]):
                send(topics, wave)
                outputs.wait([p.lead_id for p in wave])
    finally:
        outputs.close()

    reasons = [outputs.requests[p.lead_id].reason for p in people]
    assert not [r for r in reasons if "owner" in r or "linked by lead" in r]
    assert all(outputs.requests[p.lead_id].preferred_owner is None for p in people)
    guarded = [r for r in reasons if f"not linked: phone {switchboard} is shared" in r]
    assert len(guarded) >= 40  # every lead after the first wave sees the phone shared
    spread = {  # round robin undisturbed: nobody was kept by a merged person's owner
        rep: sum(1 for d in outputs.decisions.values() if d.rep_id == rep)
        for rep in ("ann", "bob", "cy")
    }
    assert max(spread.values()) - min(spread.values()) <= 1, spread
    seen = registry.get_sample_value("leadrouter_triage_identity_guarded_total", {"kind": "phone"})
    assert seen is not None and seen >= 40
