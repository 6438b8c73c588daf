"""The triage handler: records in, records out; unroutable leads refused by field."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from services.leads.events import Lead, RoutingRequest
from services.leads.routing_config import VersionedConfig
from services.router.ownership import OwnerFact
from services.router.triage import TriageHandler, TriageTopics, identity_serde
from services.router.triage_metrics import TriageMetrics
from services.streaming.cloudevents import header
from services.streaming.codec import AvroCodec
from services.streaming.errors import DecodeError, InvalidRecord
from services.streaming.records import InputRecord
from services.streaming.state import StateStore
from tests.unit.router.config_builders import make_config, make_lead

LEADS, REQUESTS = AvroCodec(Lead), AvroCodec(RoutingRequest)


def make_handler(owners: dict[str, OwnerFact] | None = None) -> TriageHandler:
    store = StateStore("router.identity", identity_serde())
    store.adopt(3)
    active = VersionedConfig(7, "abc123", make_config())
    return TriageHandler(
        TriageTopics(requests="routing.requests"),
        store,
        config=lambda: active,
        owners=lambda: owners or {},
    )


def inbound(lead: Lead, *, key: bytes | None = None, offset: int = 0) -> InputRecord:
    return InputRecord(
        "leads.inbound",
        3,
        offset,
        key or lead.identity_key.encode(),
        LEADS.encode(lead),
        timestamp_ms=lead.received_at_ms + 5,
    )


def test_a_lead_becomes_one_assign_request_keyed_by_pool_with_cloudevents_headers() -> None:
    handler = make_handler()
    lead = make_lead("lead-1")
    [record] = handler(inbound(lead))
    request = REQUESTS.decode(record.value or b"")
    assert (record.topic, record.key) == ("routing.requests", b"general")
    assert (request.lead_id, request.pool_id, request.requested_at_ms) == (
        "lead-1",
        "general",
        lead.received_at_ms + 5,
    )
    headers = list(record.headers)
    assert header(headers, "ce_id") == b"lead-1:assign"
    assert header(headers, "ce_subject") == b"lead-1"
    assert header(headers, "ce_type") == b"io.leadrouter.routing.assign"
    state = handler.store.get(3, lead.identity_key)
    assert state is not None and state.has_seen("lead-1")


def test_the_request_carries_the_lead_as_it_came_and_encodes_as_its_value_would() -> None:
    # triage writes the inbound lead's bytes into the request instead of encoding it again
    handler = make_handler()
    lead = make_lead("lead-1", utm={"utm_source": "ads"}, deal_value=1250.5)
    [record] = handler(inbound(lead))
    request = REQUESTS.decode(record.value or b"")
    assert request.lead == lead
    assert REQUESTS.encode(request) == record.value


def test_a_redelivered_lead_produces_nothing() -> None:
    handler = make_handler()
    lead = make_lead("lead-1")
    assert len(handler(inbound(lead, offset=0))) == 1
    assert handler(inbound(lead, offset=1)) == []


@pytest.mark.parametrize(
    ("lead", "key", "field"),
    [
        (make_lead(lead_id=" "), None, "lead_id: empty"),
        (make_lead(identity_key=""), b"x", "identity_key: empty"),
        (make_lead(), b"someone-else", "record key 'someone-else' differs from identity_key"),
        (make_lead(received_at_ms=0), None, "received_at_ms: 0"),
        (make_lead(deal_value=float("nan")), None, "deal_value: nan"),
        (make_lead(deal_value=-5.0), None, "deal_value: -5.0"),
    ],
)
def test_unroutable_leads_are_refused_naming_the_field(
    lead: Lead, key: bytes | None, field: str
) -> None:
    with pytest.raises(InvalidRecord) as refused:
        make_handler()(inbound(lead, key=key))
    assert refused.value.reason == "invalid_lead"
    assert refused.value.detail.startswith(field)


def test_bytes_that_are_not_a_lead_are_a_decode_error() -> None:
    record = InputRecord("leads.inbound", 3, 0, b"k", b"not avro", timestamp_ms=1)
    with pytest.raises(DecodeError):
        make_handler()(record)


def test_a_tombstone_is_refused_not_skipped() -> None:
    record = InputRecord("leads.inbound", 3, 0, b"k", None, timestamp_ms=1)
    with pytest.raises(InvalidRecord, match="missing_value"):
        make_handler()(record)


def test_metrics_count_paths_rules_and_the_config_version() -> None:
    registry = CollectorRegistry()
    handler = make_handler()
    handler.metrics = TriageMetrics.create(registry)
    lead = make_lead("lead-1")
    handler(inbound(lead, offset=0))
    handler(inbound(lead, offset=1))

    def sample(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert sample("leadrouter_triage_leads_total", path="new") == 1
    assert sample("leadrouter_triage_leads_total", path="duplicate") == 1
    assert sample("leadrouter_triage_rule_matches_total", rule="default") == 1
    assert sample("leadrouter_triage_config_version") == 7
    assert sample("leadrouter_triage_lead_score_count") == 1
