"""Triage on the real broker: one request per lead, none for redeliveries, even across a restart;
unroutable records dead-lettered with their bytes; owners from router.owners kept."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from confluent_kafka import Consumer, Producer
from prometheus_client import CollectorRegistry

from services.leads.events import DeadLetter, Lead, RoutingRequest
from services.leads.topics import Topic
from services.router.config_source import publish_config
from services.router.owner_facts import owner_fact_records, owner_facts
from services.router.triage import build_triage_processor
from services.streaming.codec import AvroCodec
from services.streaming.loop import LoopSettings, TransactionalLoop
from services.streaming.settings import KafkaSettings
from services.streaming.state import read_to_end
from tests.unit.router.config_builders import make_lead

pytestmark = pytest.mark.integration
LEADS, REQUESTS, LETTERS = AvroCodec(Lead), AvroCodec(RoutingRequest), AvroCodec(DeadLetter)
T0 = 1_763_900_000_000

CONFIG = """\
reps:
  - {id: ann, name: Ann, email: ann@example.com}
  - {id: bob, name: Bob, email: bob@example.com}
  - {id: cy, name: Cy, email: cy@example.com}
pools:
  - id: dach
    members: [{rep: ann}, {rep: bob}]
  - id: rest
    members: [{rep: bob}, {rep: cy}]
rules:
  - id: dach
    when: {country: [DE, AT, CH]}
    pool: dach
default_pool: rest
continuity: {person_window: 30d, company_domain_window: 0, dedup_window: 1h}
"""


@contextmanager
def running_triage(settings: KafkaSettings) -> Iterator[TransactionalLoop]:
    loop = TransactionalLoop(
        build_triage_processor(settings, registry=CollectorRegistry()),
        settings,
        LoopSettings(instance=0, commit_interval_ms=100),
        CollectorRegistry(),
    )
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    try:
        yield loop
    finally:
        loop.stop()
        thread.join(30)
        assert not thread.is_alive(), "the triage loop did not stop"


def produce(settings: KafkaSettings, records: list[tuple[bytes | None, bytes]]) -> None:
    producer = Producer(settings.producer())
    for key, value in records:
        producer.produce(settings.topic(Topic.INBOUND), key=key, value=value)
    assert producer.flush(30) == 0


def lead_record(lead: Lead) -> tuple[bytes, bytes]:
    return lead.identity_key.encode(), LEADS.encode(lead)


def wait_for(settings: KafkaSettings, topic: Topic, done: Callable[[list[bytes]], bool]) -> None:
    """Read `topic` (committed records only) until `done(values)` or 60 s pass."""
    consumer = Consumer(settings.consumer(f"check-{uuid.uuid4().hex}"))
    consumer.subscribe([settings.topic(topic)])
    values: list[bytes] = []
    deadline = time.monotonic() + 60
    try:
        while not done(values):
            assert time.monotonic() < deadline, f"{topic}: only {len(values)} records after 60 s"
            values += [m.value() for m in consumer.consume(500, timeout=0.5) if not m.error()]
    finally:
        consumer.close()


def everything(settings: KafkaSettings, topic: Topic) -> list[bytes]:
    values: list[bytes] = []
    read_to_end(settings, settings.topic(topic), [0, 1, 2, 3], lambda _p, _k, v: values.append(v))
    return values


def requests_for(values: list[bytes]) -> list[RoutingRequest]:
    return [REQUESTS.decode(v) for v in values]


def test_each_lead_is_requested_once_duplicates_never_even_after_a_restart(
    topics: KafkaSettings,
) -> None:
    settings = topics
    publish_config(settings, CONFIG, published_by="test", now_ms=T0)
    people = [f"p{n}@example.com" for n in range(12)]
    leads = [
        make_lead(
            f"lead-{n}",
            identity_key=people[n % 12],
            email=people[n % 12],
            company_domain=None,
            country="DE" if n % 3 == 0 else "FR",
            received_at_ms=T0 + n * 7_200_000,
        )  # two hours apart: no repeats
        for n in range(36)
    ]
    garbage = (b"who@example.com", b"\x00not a lead")
    mismatched = (b"someone-else", LEADS.encode(make_lead("lead-x")))
    with running_triage(settings):
        produce(settings, [lead_record(lead) for lead in leads] + [garbage, mismatched])
        produce(settings, [lead_record(lead) for lead in leads[:12]])  # redelivered
        wait_for(settings, Topic.ROUTING_REQUESTS, lambda v: len(v) >= 36)
        wait_for(settings, Topic.DEAD_LETTER, lambda v: len(v) >= 2)

    # A restarted triage restores router.identity and still recognises every lead it routed.
    late = [
        make_lead(
            f"late-{n}",
            identity_key=people[n],
            email=people[n],
            company_domain=None,
            received_at_ms=T0 + 400 * 3_600_000,
        )
        for n in range(12)
    ]
    with running_triage(settings):
        produce(settings, [lead_record(lead) for lead in leads])  # everything again
        produce(settings, [lead_record(lead) for lead in late])  # behind them, per person
        wait_for(settings, Topic.ROUTING_REQUESTS, lambda v: len(v) >= 48)

    requests = requests_for(everything(settings, Topic.ROUTING_REQUESTS))
    ids = sorted(r.lead_id for r in requests)
    assert ids == sorted([lead.lead_id for lead in leads] + [lead.lead_id for lead in late])
    by_id = {r.lead_id: r for r in requests}
    assert by_id["lead-0"].pool_id == "dach" and by_id["lead-0"].rule_id == "dach"
    assert by_id["lead-1"].pool_id == "rest" and by_id["lead-1"].rule_id is None
    letters = [LETTERS.decode(v) for v in everything(settings, Topic.DEAD_LETTER)]
    assert sorted(letter.reason for letter in letters) == ["invalid_lead", "undecodable"]
    assert {letter.original_value for letter in letters} == {garbage[1], mismatched[1]}


def test_a_known_owner_is_preferred_and_a_repeat_keeps_the_earlier_pool(
    topics: KafkaSettings,
) -> None:
    settings = topics
    publish_config(settings, CONFIG, published_by="test", now_ms=T0)
    facts = owner_facts(
        identity_key="kim@example.com",
        company_domain=None,
        rep_id="cy",
        pool_id="rest",
        lead_id="old",
        assigned_at_ms=T0 - 86_400_000,
    )
    producer = Producer(settings.producer())
    for record in owner_fact_records(settings.topic(Topic.OWNERS), facts):
        producer.produce(record.topic, key=record.key, value=record.value)
    assert producer.flush(30) == 0
    first = make_lead(
        "k1",
        identity_key="kim@example.com",
        email="kim@example.com",
        company_domain=None,
        country="DE",
        received_at_ms=T0,
    )
    repeat = make_lead(
        "k2",
        identity_key="kim@example.com",
        email="kim@example.com",
        company_domain=None,
        country="FR",
        received_at_ms=T0 + 60_000,
    )
    with running_triage(settings):
        produce(settings, [lead_record(first), lead_record(repeat)])
        wait_for(settings, Topic.ROUTING_REQUESTS, lambda v: len(v) >= 2)
    k1, k2 = sorted(
        requests_for(everything(settings, Topic.ROUTING_REQUESTS)), key=lambda r: r.lead_id
    )
    # cy owns kim but is not in the DACH pool: continuity routes k1 to cy's pool.
    assert (k1.pool_id, k1.preferred_owner, k1.is_repeat) == ("rest", "cy", False)
    assert (k2.pool_id, k2.preferred_owner, k2.is_repeat) == ("rest", "cy", True)
