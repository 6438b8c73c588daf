"""The identity graph on the triage handler: records in, link records and requests out."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.leads.events import Lead, RoutingRequest
from services.leads.routing_config import VersionedConfig
from services.router.identity_graph import IdentityLinks, Link, linked
from services.router.identity_links import IdentityLinker, identity_links_serde
from services.router.ownership import OwnerFact, owner_facts
from services.router.triage import TriageHandler, TriageTopics, identity_serde
from services.streaming.codec import AvroCodec
from services.streaming.errors import InvalidRecord
from services.streaming.memory_cluster import key_partition
from services.streaming.records import InputRecord, OutputRecord
from services.streaming.state import StateStore
from tests.unit.router.config_builders import make_config, make_lead

LEADS, REQUESTS = AvroCodec(Lead), AvroCodec(RoutingRequest)
SERDE = identity_links_serde()
T0 = 1_763_900_000_000
TOPICS = TriageTopics(requests="routing.requests", link_requests="router.identity-link-requests")


class Triage:
    """A triage handler with its identity graph, on partition 0, with a table the test fills."""

    def __init__(self, owners: dict[str, OwnerFact] | None = None) -> None:
        self.table: dict[str, IdentityLinks] = {}
        self.links: StateStore[IdentityLinks] = StateStore("router.identity-links", SERDE)
        self.links.adopt(0)
        memory = StateStore("router.identity", identity_serde())
        memory.adopt(0)
        active = VersionedConfig(1, "h", make_config(continuity={"dedup_window": 0}))
        self.linker = IdentityLinker(TOPICS.link_requests, self.links, lambda: self.table)
        self.handler = TriageHandler(
            TOPICS,
            memory,
            config=lambda: active,
            owners=lambda: owners or {},
            linker=self.linker,
        )

    def __call__(self, lead: Lead) -> list[OutputRecord]:
        key, value = lead.identity_key.encode(), LEADS.encode(lead)
        record = InputRecord("leads.inbound", 0, 0, key, value, lead.received_at_ms)
        return self.handler(record)

    def apply(self, request: OutputRecord, partition: int = 0) -> None:
        self.handler(InputRecord(request.topic, partition, 0, request.key, request.value, T0))


def test_a_lead_with_one_identifier_writes_no_link_and_sends_no_request() -> None:
    triage = Triage()
    [request] = triage(make_lead("l1", received_at_ms=T0))
    assert request.topic == "routing.requests"
    assert triage.links.get(0, "jane@acme.example") is None


def test_the_own_key_is_written_at_once_and_the_other_identifier_asked_of_its_partition() -> None:
    triage = Triage()
    lead = make_lead("l1", phone="+15550001", received_at_ms=T0)
    _request, link = triage(lead)
    own = triage.links.get(0, "jane@acme.example")
    assert own is not None and [x.identifier for x in own.links] == ["+15550001"]
    assert (link.topic, link.key) == ("router.identity-link-requests", b"+15550001")
    asked = SERDE.decode(link.value or b"")
    assert asked.links == (Link(identifier="jane@acme.example", lead_id="l1", at_ms=T0),)
    triage.apply(link)
    applied = triage.links.get(0, "+15550001")
    assert applied is not None and applied.links == asked.links


def test_a_link_already_recorded_is_not_asked_for_again() -> None:
    triage = Triage()
    _request, link = triage(make_lead("l1", phone="+15550001", received_at_ms=T0))
    triage.table["+15550001"] = SERDE.decode(link.value or b"")
    assert len(triage(make_lead("l2", phone="+15550001", received_at_ms=T0 + 5))) == 1


def test_a_link_request_under_another_key_is_refused() -> None:
    triage = Triage()
    _request, link = triage(make_lead("l1", phone="+15550001", received_at_ms=T0))
    with pytest.raises(InvalidRecord, match="differs from identifier"):
        triage.handler(InputRecord(link.topic, 0, 0, b"+15559999", link.value, T0))


@settings(max_examples=50, deadline=None)
@given(st.permutations(range(6)), st.integers(0, 5))
def test_link_requests_applied_in_any_order_or_again_leave_the_same_record(
    order: list[int], again: int
) -> None:
    requests = []
    source = Triage()
    for n in range(6):
        lead = make_lead(f"l{n}", email=f"p{n}@x.example", identity_key=f"p{n}@x.example",
                         phone="+15550001", received_at_ms=T0 + n)  # fmt: skip
        requests += [r for r in source(lead) if r.topic == TOPICS.link_requests]
    one, two = Triage(), Triage()
    for request in requests:
        one.apply(request)
    for n in [*order, again]:  # a retried transaction delivers one again
        two.apply(requests[n])
    assert one.links.get(0, "+15550001") == two.links.get(0, "+15550001") is not None


def test_the_earlier_owner_of_a_merged_person_wins_and_the_reason_names_the_link() -> None:
    facts = {
        f.subject: f
        for who, rep, at in (("jane@acme.example", "bob", T0 - 50), ("+15550001", "ann", T0 - 90))
        for f in owner_facts(
            identity_key=who,
            company_domain=None,
            rep_id=rep,
            pool_id="general",
            lead_id=f"old-{rep}",
            assigned_at_ms=at,
        )
    }
    triage = Triage(facts)
    request, _link = triage(make_lead("l1", phone="+15550001", received_at_ms=T0))
    decoded = REQUESTS.decode(request.value or b"")
    assert decoded.preferred_owner == "ann"
    assert decoded.reason.startswith(
        "person's owner ann from old-ann (via phone +15550001 on this lead), in pool general"
    )


PARTITIONS = 3


class Cluster:
    """Triage over `PARTITIONS` partitions as the loop runs it: records routed by key as Kafka's
    partitioner does, link requests consumed by the partition that owns their key, the table
    a copy of what was committed, refreshed between transactions."""

    def __init__(self) -> None:
        self.triage = Triage()
        self.triage.links.drop([0])
        self.triage.handler.store.drop([0])
        for partition in range(PARTITIONS):
            self.triage.links.adopt(partition)
            self.triage.handler.store.adopt(partition)
        self.pending: list[InputRecord] = []

    def lead(self, lead: Lead) -> None:
        key = lead.identity_key.encode()
        record = InputRecord("leads.inbound", key_partition(key, PARTITIONS), 0, key,
                             LEADS.encode(lead), lead.received_at_ms)  # fmt: skip
        self._route(self.triage.handler(record))

    def request(self, index: int) -> None:
        self._route(self.triage.handler(self.pending.pop(index % len(self.pending))))

    def commit(self) -> None:
        for store in (self.triage.links, self.triage.handler.store):
            store.flush()
            store.commit()
        self.triage.table = {k: v for p in range(PARTITIONS) for k, v in self.triage.links.items(p)}

    def _route(self, outputs: list[OutputRecord]) -> None:
        for out in outputs:
            if out.topic == TOPICS.link_requests and out.key is not None:
                partition = key_partition(out.key, PARTITIONS)
                self.pending.append(InputRecord(out.topic, partition, 0, out.key, out.value, T0))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_links_settle_on_their_owning_partitions_as_the_union_of_every_lead_in_any_order(
    data: st.DataObject,
) -> None:
    people = [(f"p{n}@x.example", f"+1555000{n % 4}", f"C{n % 3}") for n in range(6)]
    leads = []
    for n in range(data.draw(st.integers(1, 14))):
        email, phone, crm = data.draw(st.sampled_from(people))
        carried = data.draw(st.sampled_from(["email", "phone", "email+phone", "all"]))
        fields: dict[str, object] = {"email": email, "identity_key": email, "phone": None}
        if carried == "phone":
            fields = {"email": None, "identity_key": phone, "phone": phone}
        elif carried != "email":
            fields["phone"] = phone
        attributes = {"crm_id": crm} if carried == "all" else {}
        leads.append(make_lead(f"l{n}", received_at_ms=T0 + n, company_domain=None,
                               attributes=attributes, **fields))  # fmt: skip
    cluster = Cluster()
    for lead in data.draw(st.permutations(leads)):
        cluster.lead(lead)
        while cluster.pending and data.draw(st.booleans()):
            cluster.request(data.draw(st.integers(0, 99)))
        if data.draw(st.booleans()):
            cluster.commit()
    while cluster.pending:
        cluster.request(0)
    cluster.commit()

    expected: dict[str, IdentityLinks] = {}
    for lead in leads:
        expected.update(linked(expected.get, lead))
    found = {k: (p, v) for p in range(PARTITIONS) for k, v in cluster.triage.links.items(p)}
    assert {k: v for k, (_p, v) in found.items()} == expected
    for key, (partition, _record) in found.items():
        assert partition == key_partition(key.encode(), PARTITIONS), key
