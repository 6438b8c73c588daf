"""The identity graph on the loop: `router.identity-links` read, written and asked to grow.

Each identifier's record is written only by the triage partition that owns its key (the
partition `leads.inbound` would put a lead keyed by it on), through the loop's state store, in
the same transaction as triage's requests and offsets:

- a lead's own identity key: its record is merged and written at once;
- each other identifier of the lead: a link request (key the identifier, value the links to
  add, `IdentityLinks`) goes to `router.identity-link-requests`, co-partitioned with
  `leads.inbound`; the owning partition's triage reads it as its second input and merges it.

A merge is a set union (`identity_graph.merge`), so requests applied in any order, or twice
after a retried transaction, leave the same record. A request is sent only when the recorded
record would change. Every triage instance also reads the whole topic as a `GlobalTable`;
`person` reads a key of its own partition from the store (fresh) and any other from the table
(a commit behind: see docs/routing.md, "Identity").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache

from services.leads.events import Lead
from services.leads.identity_config import IdentityLinking
from services.router.identity_graph import (
    IdentityLinks,
    Person,
    Sighting,
    empty,
    kind_of,
    merge,
    person_and_changes,
)
from services.streaming.codec import AvroCodec
from services.streaming.errors import InvalidRecord
from services.streaming.records import InputRecord, OutputRecord, Serde
from services.streaming.state import StateStore

GuardCount = Callable[[str], None]
"""Called with an identifier kind (`email`, `phone`, ...) each time the guard stops a link."""


@cache
def identity_links_serde() -> Serde[IdentityLinks]:
    """`router.identity-links` and `router.identity-link-requests` values: Avro `IdentityLinks`."""
    return AvroCodec(IdentityLinks).serde()


@dataclass(frozen=True, slots=True)
class Found:
    """A lead's person, and what its links change (`IdentityLinker.find`), to record once the
    lead is routed (`IdentityLinker.link`)."""

    person: Person
    changed: dict[str, IdentityLinks]
    """Per identifier of the lead, its record with the lead's links merged in, where that
    differs from the recorded one."""
    seen: Sighting


class IdentityLinker:
    """Resolves a lead's person and keeps the graph growing, for one triage processor."""

    def __init__(
        self,
        requests_topic: str,
        store: StateStore[IdentityLinks],
        table: Callable[[], Mapping[str, IdentityLinks]],
        guarded: GuardCount | None = None,
    ) -> None:
        self.requests_topic = requests_topic
        self.store = store
        self.table = table
        self.guarded = guarded
        self._serde = identity_links_serde()

    def find(self, config: IdentityLinking, lead: Lead, partition: int, seen: Sighting) -> Found:
        """The lead's person as this partition knows the graph now, and the records its links
        change; `seen` is `sighting(lead)`. Each identifier is looked up and merged once: the
        person is searched over the records as the lead's links leave them."""
        table, store = self.table(), self.store

        def recorded(identifier: str) -> IdentityLinks | None:
            return store.get(partition, identifier) or table.get(identifier)

        person, changed = person_and_changes(config, lead, recorded, seen)
        if self.guarded is not None:
            for guarded in person.guarded:
                self.guarded(kind_of(guarded.identifier).name.lower())
        return Found(person, changed, seen)

    def link(self, lead: Lead, partition: int, found: Found) -> list[OutputRecord]:
        """Record the links `lead` makes: its own key's record in the store, and a request to
        each other identifier's partition whose recorded links lack some of them."""
        own, made = lead.identity_key, found.seen.links
        outputs = []
        for identifier, updated in found.changed.items():
            if identifier == own:
                self.store.put(partition, own, updated)
                continue
            request = IdentityLinks(identifier=identifier, links=made[identifier])
            outputs.append(
                OutputRecord(self.requests_topic, identifier.encode(), self._serde.encode(request))
            )
        return outputs

    def apply(self, record: InputRecord) -> None:
        """Merge a link request into the record of its key, on this partition."""
        if record.value is None or record.key is None:
            raise InvalidRecord("missing_value", "a link request needs a key and a value")
        request = self._serde.decode(record.value)  # DecodeError: dead-lettered
        key = record.key.decode(errors="replace")
        if key != request.identifier:
            raise InvalidRecord(
                "invalid_link", f"key {key!r} differs from identifier {request.identifier!r}"
            )
        current = self.store.get(record.partition, key) or empty(key)
        updated = merge(current, request.links)
        if updated is not current:
            self.store.put(record.partition, key, updated)
