"""The identity graph, the pure part: which identifiers are one person, and why.

An identifier is written as it keys `leads.inbound`: an email (`ann@acme.com`), an E.164
phone (`+15551234567`), a chat handle (`chat:v-1`), or a CRM id (`crm:0031`). Identifiers one
lead carries together are *linked*. Each identifier's record (`IdentityLinks`, the value on the
compacted `router.identity-links`, keyed by the identifier) holds its links, each with the
lead and time that first made it. Records grow only by `merge`, a set union that keeps the
earliest (time, lead) per link and the least `MAX_KEPT_PER_KIND` links per kind: it is
commutative, associative and idempotent, so the final records do not depend on arrival order.

A person is the connected component of a lead's identifiers over identifiers that are not
*shared* (`shared_reason`: a role address, or more links of one kind than the config's
fan-out). A shared identifier is never traversed, so it joins nobody; once an identifier
becomes shared, every link through it stops counting. The canonical person id is the least
member in the total order (kind rank, then text). The search is bounded (`MAX_MEMBERS`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from services.leads.events import Channel, Lead, unvalidated
from services.leads.identity_config import MAX_KEPT_PER_KIND, IdentityLinking

CRM_ATTRIBUTE = "crm_id"
"""A lead attribute naming the person's CRM record (a form's hidden field, a CRM's webhook)."""
CHAT_ATTRIBUTES = ("visitor.id", "chat_id")
"""Lead attributes naming a chat handle: the chat front door keeps the visitor's id as
`visitor.id` on a chat lead (services/ingest/chat.py); any lead may name it `chat_id`."""
MAX_MEMBERS = 64
"""Identifiers a person is searched to: a bound on per-lead work whatever the table's size."""


class Kind(IntEnum):
    """Identifier kinds, in the order the canonical id prefers them."""

    CRM = 0
    EMAIL = 1
    PHONE = 2
    CHAT = 3


@lru_cache(maxsize=4096)
def kind_of(identifier: str) -> Kind:
    """Kept for the last few thousand identifiers: a lead's few are asked about many times
    as its person is resolved, merged and ordered."""
    if identifier.startswith("crm:"):
        return Kind.CRM
    if identifier.startswith("+"):
        return Kind.PHONE
    if "@" in identifier and ":" not in identifier.split("@", 1)[0]:
        return Kind.EMAIL
    return Kind.CHAT  # `chat:<visitor>` and any other channel-scoped handle


def order(identifier: str) -> tuple[int, str]:
    """The total order on identifiers: kind rank, then text."""
    return kind_of(identifier), identifier


def describe(identifier: str) -> str:
    """`phone +15551234567`: how a trace names an identifier."""
    kind = kind_of(identifier)
    text = identifier.removeprefix("crm:").removeprefix("chat:")
    return f"{kind.name.lower()} {text}"


def lead_identifiers(lead: Lead) -> tuple[str, ...]:
    """Every identifier `lead` carries, in the total order, its identity key among them."""
    key, email, phone, attributes = lead.identity_key, lead.email, lead.phone, lead.attributes
    if (email is None or email == key) and (phone is None or phone == key) and not attributes:
        return (key,)  # most leads: one identifier, no set, no sort
    found = {key, email, phone}
    if crm := attributes.get(CRM_ATTRIBUTE, "").strip():
        found.add(f"crm:{crm}")
    for name in CHAT_ATTRIBUTES if lead.channel is Channel.CHAT else CHAT_ATTRIBUTES[1:]:
        if chat := attributes.get(name, "").strip():
            found.add(chat if chat.startswith("chat:") else f"chat:{chat[:200]}")  # as ingest
    return tuple(sorted((i for i in found if i), key=order))


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Link(_Value):
    """Mirrors schemas/IdentityLinks.avsc: the other identifier, and the lead that linked them."""

    identifier: str
    lead_id: str
    at_ms: int


class IdentityLinks(_Value):
    """Mirrors schemas/IdentityLinks.avsc; `links` in the total order of their identifiers."""

    identifier: str
    links: tuple[Link, ...] = ()


Lookup = Callable[[str], IdentityLinks | None]
"""An identifier's recorded links (the table, or the store for the lead's own partition)."""


def empty(identifier: str) -> IdentityLinks:
    return unvalidated(IdentityLinks, {"identifier": identifier, "links": ()})


@dataclass(frozen=True, slots=True)
class Sighting:
    """What one lead says about the graph: its identifiers in the total order, and per
    identifier its links to the others. Built once per lead (`sighting`)."""

    identifiers: tuple[str, ...]
    links: dict[str, tuple[Link, ...]]


def sighting(lead: Lead) -> Sighting:
    identifiers = lead_identifiers(lead)
    if len(identifiers) < 2:  # a lone identifier links nothing
        return Sighting(identifiers, {})
    made = {
        i: unvalidated(
            Link, {"identifier": i, "lead_id": lead.lead_id, "at_ms": lead.received_at_ms}
        )
        for i in identifiers
    }
    links = {i: tuple(made[o] for o in identifiers if o != i) for i in identifiers}
    return Sighting(identifiers, links)


def merge(record: IdentityLinks, added: Iterable[Link]) -> IdentityLinks:
    """`record` with `added` united in: per identifier the earliest (time, lead), per kind the
    least `MAX_KEPT_PER_KIND` identifiers. The same object when nothing changes."""
    best = {link.identifier: link for link in record.links}
    changed = False
    for link in added:
        if link.identifier == record.identifier:
            continue
        held = best.get(link.identifier)
        if held is None or (link.at_ms, link.lead_id) < (held.at_ms, held.lead_id):
            best[link.identifier] = link
            changed = True
    if not changed:
        return record
    kept: list[Link] = []
    per_kind: dict[Kind, int] = {}
    for name in sorted(best, key=order):
        kind = kind_of(name)
        if per_kind.get(kind, 0) < MAX_KEPT_PER_KIND:
            per_kind[kind] = per_kind.get(kind, 0) + 1
            kept.append(best[name])
    links = tuple(kept)
    if links == record.links:
        return record  # every new link fell past the kept bound
    return unvalidated(IdentityLinks, {"identifier": record.identifier, "links": links})


def linked(lookup: Lookup, lead: Lead, seen: Sighting | None = None) -> dict[str, IdentityLinks]:
    """The records `lead` changes, as they are after its links are merged in: what the live
    router writes (own key) and asks for (the others), for a caller holding the graph whole.
    `seen`: `sighting(lead)` when the caller has it already."""
    changed = {}
    for identifier, links in (seen or sighting(lead)).links.items():
        current = lookup(identifier) or empty(identifier)
        updated = merge(current, links)
        if updated is not current:
            changed[identifier] = updated
    return changed


def shared_reason(
    config: IdentityLinking, identifier: str, record: IdentityLinks | None
) -> str | None:
    """Why `identifier` is shared (joins nobody), or None when it may link."""
    if kind_of(identifier) is Kind.EMAIL:
        local = identifier.split("@", 1)[0]
        if local in config.shared_local_parts:
            return f"{describe(identifier)} is a role address"
    if record is None:
        return None
    counts: dict[Kind, int] = {}
    for link in record.links:
        kind = kind_of(link.identifier)
        counts[kind] = counts.get(kind, 0) + 1
    for kind, count in sorted(counts.items()):
        if count > config.max_links_per_kind:
            return (
                f"{describe(identifier)} is shared by {count} {kind.name.lower()} identifiers "
                f"(fan-out {config.max_links_per_kind})"
            )
    return None


@dataclass(frozen=True, slots=True)
class Joined:
    """How `identifier` joined the person: linked to `to` by lead `lead_id` at `at_ms`;
    `lead_id` is None for another identifier of the lead itself."""

    identifier: str
    to: str
    lead_id: str | None
    at_ms: int

    def explain(self) -> str:
        if self.lead_id is None:
            return f"{describe(self.identifier)} on this lead"
        when = datetime.fromtimestamp(self.at_ms / 1000, tz=UTC).isoformat(timespec="seconds")
        return f"{describe(self.identifier)} linked by lead {self.lead_id} at {when}"


@dataclass(frozen=True, slots=True)
class Guarded:
    """An identifier the fan-out guard kept from linking, and why."""

    identifier: str
    why: str


@dataclass(frozen=True, slots=True)
class Person:
    """A lead's person: `members` in the total order, the lead's identity key always among
    them (a shared key is a member, never the canonical id); `joined` says how each member
    other than the key came in; `guarded` says which identifiers the guard kept out, and why."""

    canonical: str
    members: tuple[str, ...]
    joined: dict[str, Joined]
    guarded: tuple[Guarded, ...] = ()

    @classmethod
    def alone(cls, identity_key: str) -> Person:
        return cls(identity_key, (identity_key,), {})


def resolve(
    config: IdentityLinking, lead: Lead, lookup: Lookup, seen: Sighting | None = None
) -> Person:
    """The person of `lead`: its identifiers and theirs, transitively, over non-shared ones.
    `seen`: `sighting(lead)` when the caller has it already."""
    if not config.enabled:
        return Person.alone(lead.identity_key)
    seen = seen or sighting(lead)
    own, mine = seen.identifiers, seen.links
    if len(own) == 1 and lookup(own[0]) is None and shared_reason(config, own[0], None) is None:
        return Person.alone(lead.identity_key)  # the common case: a new single-identifier lead
    records: dict[str, IdentityLinks | None] = {}

    def record(identifier: str) -> IdentityLinks | None:
        if identifier in records:
            return records[identifier]
        found = lookup(identifier)
        extra = mine.get(identifier)
        if extra:
            found = merge(found or empty(identifier), extra)
        records[identifier] = found
        return found

    joined: dict[str, Joined] = {}
    guarded: list[Guarded] = []
    members = {lead.identity_key}  # today's person, even when its key is shared
    key_shared = False
    queue: list[str] = []
    visited: set[str] = set()
    for identifier in own:
        visited.add(identifier)
        why = shared_reason(config, identifier, record(identifier))
        if why is not None:
            guarded.append(Guarded(identifier, why))
            key_shared = key_shared or identifier == lead.identity_key
            continue
        members.add(identifier)
        queue.append(identifier)
        if identifier != lead.identity_key:
            joined[identifier] = Joined(identifier, lead.identity_key, None, lead.received_at_ms)
    while queue and len(members) < MAX_MEMBERS:
        at = queue.pop(0)
        found = record(at)
        for link in () if found is None else found.links:
            if link.identifier in visited or len(members) >= MAX_MEMBERS:
                continue
            visited.add(link.identifier)
            why = shared_reason(config, link.identifier, record(link.identifier))
            if why is not None:
                guarded.append(Guarded(link.identifier, why))
                continue
            members.add(link.identifier)
            queue.append(link.identifier)
            joined[link.identifier] = Joined(link.identifier, at, link.lead_id, link.at_ms)
    ordered = tuple(sorted(members, key=order))
    linkable = [m for m in ordered if not (key_shared and m == lead.identity_key)]
    return Person(linkable[0] if linkable else lead.identity_key, ordered, joined, tuple(guarded))


def person_and_changes(
    config: IdentityLinking, lead: Lead, lookup: Lookup, seen: Sighting
) -> tuple[Person, dict[str, IdentityLinks]]:
    """`resolve` and `linked` in one pass: each of the lead's identifiers is looked up and
    merged once, and the person is searched over the records as the lead's links leave them.
    Returns the person and the records the lead changes (to write, or to ask for)."""
    changed = linked(lookup, lead, seen) if seen.links else {}

    def merged(identifier: str) -> IdentityLinks | None:
        return changed.get(identifier) or lookup(identifier)

    return resolve(config, lead, merged, Sighting(seen.identifiers, {})), changed
