"""How `LeadPublisher` answers when no acknowledgement comes: every waiting lead gets
`BrokerUnavailable`, whether librdkafka reports the failure or stays silent.

No broker is needed: the producer points at a port nothing listens on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from services.ingest import publisher as publisher_module
from services.ingest.chat import normalize_chat
from services.ingest.metrics import IngestMetrics
from services.ingest.publisher import BrokerUnavailable, LeadPublisher
from services.leads.events import Lead
from services.streaming.settings import ClientConfig, KafkaSettings
from tests.unit.ingest.payloads import NOW_MS, make_chat


class Quiet(KafkaSettings):
    """No librdkafka log lines: "connection refused" is this test's premise, not news."""

    def producer(self, **overrides: str | int | float | bool) -> ClientConfig:
        return super().producer(**{"log_level": 0, **overrides})


NOWHERE = Quiet(bootstrap_servers="127.0.0.1:9", topic_prefix="unit.")


@pytest.fixture
def publisher() -> Iterator[LeadPublisher]:
    publisher = LeadPublisher(NOWHERE, 100, IngestMetrics.create(CollectorRegistry()), 900_000)
    yield publisher
    publisher.close(0)


def lead(number: int) -> Lead:
    return normalize_chat(make_chat(conversation_id=f"conv_{number}"), NOW_MS)


async def outcomes(publisher: LeadPublisher, count: int) -> list[BaseException | None]:
    waits = [asyncio.wait_for(publisher.publish(lead(n)), 10) for n in range(count)]
    return list(await asyncio.gather(*waits, return_exceptions=True))


def test_every_lead_of_a_batch_gets_its_own_failed_report(publisher: LeadPublisher) -> None:
    results = asyncio.run(outcomes(publisher, 20))
    assert all(isinstance(result, BrokerUnavailable) for result in results), results
    assert {str(result) for result in results} == {"write not acknowledged: _MSG_TIMED_OUT"}


def test_a_stalled_delivery_thread_still_answers_within_its_bound(
    publisher: LeadPublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(publisher_module, "GRACE_S", 0.05)
    publisher.close(0)  # the delivery thread stops: no report will reach the loop
    results = asyncio.run(outcomes(publisher, 3))
    assert [str(result) for result in results] == ["no delivery report in time"] * 3
