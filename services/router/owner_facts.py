"""`router.owners` records: owner facts as Kafka records (the contract is in `ownership`)."""

from __future__ import annotations

from functools import cache

from services.router.ownership import OwnerFact, assignment_owner_facts, owner_facts
from services.streaming.codec import AvroCodec
from services.streaming.records import OutputRecord, Serde

__all__ = [
    "OwnerFact",
    "assignment_owner_facts",
    "owner_fact_records",
    "owner_fact_serde",
    "owner_facts",
]


@cache
def owner_fact_serde() -> Serde[OwnerFact]:
    return AvroCodec(OwnerFact).serde()


def owner_fact_records(topic: str, facts: tuple[OwnerFact, ...]) -> list[OutputRecord]:
    """The `router.owners` records for `facts`; `topic` is `settings.topic(Topic.OWNERS)`.

    Key: the subject as UTF-8; value: Avro `OwnerFact`; no headers (state, not an event).
    """
    encode = owner_fact_serde().encode
    return [OutputRecord(topic, f.subject.encode(), encode(f)) for f in facts]
