"""Triage on the loop: `leads.inbound` (key identity) -> `routing.requests` (key pool).

The handler decodes the lead, refuses values it cannot route (as `InvalidRecord`, so the loop
dead-letters the original bytes with the reason), and hands the decision to the pure
`triage_decision.triage`. The person's memory (`router.identity`) is read and written through
the state store, in the same transaction as the request; owners and the config come from global
tables refreshed between transactions. The identity graph (`identity_links`) resolves the
lead's person before the decision and records the lead's links after it; its link requests are
triage's second input. Every time used comes from the record.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache

from prometheus_client import CollectorRegistry

from services.leads.events import Lead, RoutingRequest
from services.leads.routing_config import VersionedConfig
from services.leads.topics import Topic
from services.router.config_source import ActiveConfig, config_table
from services.router.identity_graph import IdentityLinks, sighting
from services.router.identity_links import IdentityLinker, identity_links_serde
from services.router.identity_state import IdentityState
from services.router.metrics import Children
from services.router.owner_facts import owner_fact_serde
from services.router.ownership import OwnerFact
from services.router.triage_decision import Duplicate, Routed, triage
from services.router.triage_metrics import TriageMetrics
from services.streaming.admin import require_co_partitioned
from services.streaming.cloudevents import ce_headers
from services.streaming.codec import PRESENT, AvroCodec
from services.streaming.errors import InvalidRecord
from services.streaming.loop import Processor
from services.streaming.records import InputRecord, OutputRecord, Serde
from services.streaming.settings import KafkaSettings
from services.streaming.state import StateStore
from services.streaming.tables import GlobalTable

APP_ID = "leadrouter-triage"
SOURCE = "leadrouter/router/triage"
EVENT_TYPE = "io.leadrouter.routing.assign"


@cache
def identity_serde() -> Serde[IdentityState]:
    """`router.identity` values: Avro `IdentityState`."""
    return AvroCodec(IdentityState).serde()


@dataclass(frozen=True, slots=True)
class TriageTopics:
    requests: str
    link_requests: str = Topic.IDENTITY_LINK_REQUESTS.value

    @classmethod
    def of(cls, settings: KafkaSettings) -> TriageTopics:
        return cls(
            requests=settings.topic(Topic.ROUTING_REQUESTS),
            link_requests=settings.topic(Topic.IDENTITY_LINK_REQUESTS),
        )


class TriageHandler:
    """`handle` for the triage processor: one inbound record -> zero or one request record."""

    def __init__(
        self,
        topics: TriageTopics,
        store: StateStore[IdentityState],
        config: Callable[[], VersionedConfig],
        owners: Callable[[], Mapping[str, OwnerFact]],
        metrics: TriageMetrics | None = None,
        *,
        linker: IdentityLinker | None = None,
    ) -> None:
        """Without `linker`, every lead is its identity key alone (no identity graph)."""
        self.topics = topics
        self.linker = linker
        self.store = store
        self.config = config
        self.owners = owners
        self.metrics = metrics
        self._child = Children()
        self._leads = AvroCodec(Lead)
        self._requests = AvroCodec(RoutingRequest)

    def __call__(self, record: InputRecord) -> list[OutputRecord]:
        linker = self.linker
        if linker is not None and record.topic == self.topics.link_requests:
            linker.apply(record)
            return []
        lead, body = self._lead(record)
        active = self.config()
        state = self.store.get(record.partition, lead.identity_key)
        found = None
        if linker is not None:
            found = linker.find(active.config.identity, lead, record.partition, sighting(lead))
        person = None if found is None else found.person
        outcome = triage(
            active.config, state, self.owners(), lead, record.timestamp_ms, person=person
        )
        if isinstance(outcome, Duplicate):
            self._count("duplicate")
            return []
        self.store.put(record.partition, lead.identity_key, outcome.state)
        links: list[OutputRecord] = []
        if linker is not None and found is not None:
            links = linker.link(lead, record.partition, found)
        self._observe(outcome, active.version)
        # The request carries the lead as it came in: its bytes, not a second encoding.
        raw = (
            {"lead": PRESENT + body} if body is not None and outcome.request.lead is lead else None
        )
        return [self._request_record(outcome.request, raw), *links]

    def _lead(self, record: InputRecord) -> tuple[Lead, bytes | None]:
        """The lead, and its Avro body when it can be passed on as it is."""
        if record.value is None:
            raise InvalidRecord("missing_value", "the record has no value; expected an Avro Lead")
        lead, body = self._leads.decode_body(record.value)  # DecodeError: dead-lettered
        problem = lead_problem(lead, record.key)
        if problem is not None:
            raise InvalidRecord("invalid_lead", problem)
        return lead, body

    def _request_record(
        self, request: RoutingRequest, raw: dict[str, bytes] | None = None
    ) -> OutputRecord:
        headers = ce_headers(
            event_id=request.request_id,
            source=SOURCE,
            event_type=EVENT_TYPE,
            time_ms=request.requested_at_ms,
            subject=request.lead_id,
            schema="io.leadrouter.RoutingRequest",
        )
        return OutputRecord(
            self.topics.requests,
            request.pool_id.encode(),
            self._requests.encode(request, raw=raw),
            tuple(headers),
        )

    def _count(self, path: str) -> None:
        if self.metrics is not None:
            self._child(self.metrics.leads, path).inc()

    def _observe(self, outcome: Routed, version: int) -> None:
        self._count(outcome.path.value)
        if self.metrics is not None:
            rule = outcome.request.rule_id or "default"
            self._child(self.metrics.rule_matches, rule).inc()
            self.metrics.scores.observe(outcome.request.score)
            self.metrics.config_version.set(version)


def lead_problem(lead: Lead, key: bytes | None) -> str | None:
    """Why triage cannot route `lead` read under `key`, naming the field; None when it can."""
    if not lead.lead_id.strip():
        return "lead_id: empty; expected the id ingest derived from channel and message id"
    if not lead.identity_key.strip():
        return "identity_key: empty; expected a normalized email, phone or channel id"
    if key is None or key != lead.identity_key.encode():
        shown = None if key is None else key.decode(errors="replace")
        return (
            f"record key {shown!r} differs from identity_key {lead.identity_key!r}; expected "
            "leads.inbound to be keyed by identity, or the person's memory would be split"
        )
    if lead.received_at_ms <= 0:
        return f"received_at_ms: {lead.received_at_ms}; expected epoch milliseconds after 1970"
    value = lead.deal_value
    if value is not None and not (math.isfinite(value) and value >= 0):
        return f"deal_value: {value}; expected a finite amount of zero or more"
    return None


def build_triage_processor(
    settings: KafkaSettings,
    active: ActiveConfig | None = None,
    registry: CollectorRegistry | None = None,
) -> Processor:
    """The triage processor for `TransactionalLoop`, with its state store and global tables.

    FatalError when `leads.inbound`, `router.identity-link-requests`, `router.identity` and
    `router.identity-links` have different partition counts: a person's memory, or an
    identifier's links, would then live on a partition other than their leads.

    Without `active`, it follows `routing.config` through a table of its own. Give each
    processor its own `ActiveConfig`: a table belongs to one loop, which loads and refreshes it.
    """
    active = active or ActiveConfig(config_table(settings))
    owners = GlobalTable(
        settings, settings.topic(Topic.OWNERS), owner_fact_serde(), decode_on_read=True
    )
    store = StateStore(settings.topic(Topic.IDENTITY_STATE), identity_serde())
    links_topic = settings.topic(Topic.IDENTITY_LINKS)
    links_store: StateStore[IdentityLinks] = StateStore(links_topic, identity_links_serde())
    links_table = GlobalTable(settings, links_topic, identity_links_serde(), decode_on_read=True)
    topics = TriageTopics.of(settings)
    inputs = [settings.topic(Topic.INBOUND), topics.link_requests]
    require_co_partitioned(settings, [*inputs, store.topic, links_topic])
    metrics = None if registry is None else TriageMetrics.create(registry)
    guarded = None if metrics is None else metrics.guarded_counter()
    handler = TriageHandler(
        topics,
        store,
        config=active.current,
        owners=lambda: owners.values,
        metrics=metrics,
        linker=IdentityLinker(
            topics.link_requests, links_store, lambda: links_table.values, guarded
        ),
    )
    return Processor(
        app_id=settings.topic(APP_ID),  # the prefix isolates group and transactional ids too
        inputs=inputs,
        handle=handler,
        stores=[store, links_store],
        tables=[active.table, owners, links_table],
        dead_letter_topic=settings.topic(Topic.DEAD_LETTER),
    )
