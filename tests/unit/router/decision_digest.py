"""A fixed 10,000-lead run through the router's own triage and assign handlers, digested.

The digest is sha256 over every record the run writes, in the order written: each handler
output (topic, key, value, headers, partition), each dead letter, and every state record the
stores flush at the end of a transaction. It pins the router's decisions byte for byte, so a
change meant to be invisible (a faster strategy, a leaner codec) can prove it is.

The run is what the loop does, without the broker: `leads.inbound` records (keyed by identity)
on `PARTITIONS` partitions go through `TriageHandler` a transaction of `BATCH` leads at a time;
its `routing.requests` records are appended to that topic's partitions (a stable hash of the
key picks one) and `AssignHandler` reads each partition in offset order, once per transaction.
Between transactions, as the loop refreshes its tables: owners written by assign reach triage,
presence changes reach assign (decisions record the position), and after the first 1,000 leads
a second config version takes over. An SLA watcher's part is played by reassign and release requests
for some of the assignments. Everything comes from `random.Random(SEED)` and lead times, never
a clock.

Regenerate the fixture only when a change is *meant* to alter decisions, and say why in the
commit: `python -m tests.unit.router.decision_digest --write`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from services.leads.events import (
    Channel,
    Lead,
    PresenceStatus,
    RepPresence,
    RequestKind,
    RoutingRequest,
)
from services.leads.routing_config import VersionedConfig, parse_routing_config
from services.router.assign import AssignHandler, AssignTopics
from services.router.identity_state import IdentityState
from services.router.metrics import RouterMetrics
from services.router.ownership import PERSON_PREFIX, OwnerFact
from services.router.presence import PresenceBook, PresenceView
from services.router.rotation import RotationRecord
from services.router.rotation_serde import rotation_serde
from services.router.triage import TriageHandler, TriageTopics, identity_serde
from services.streaming.codec import AvroCodec
from services.streaming.errors import PermanentError
from services.streaming.records import InputRecord, OutputRecord
from services.streaming.state import StateStore

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "router" / "decision_digest.json"
SEED = 20261123
LEADS = 10_000
QUICK = 1_500
CHECKPOINTS = (QUICK, LEADS)
"""The digest is kept after the first 1,500 leads too: the quick test stops there."""
CONFIG_CHANGE_AT = 1_000
BATCH = 40
PARTITIONS = 3
T0 = 1_795_413_600_000  # Mon 2026-11-23 06:00 UTC
DEAD_LETTER = "leads.dead-letter"
INBOUND = "leads.inbound"
TOPICS = AssignTopics(
    requests="routing.requests", assignments="leads.assignments", owners="router.owners"
)
COUNTRIES = ("DE", "AT", "US", "CA", "JP", "GB", "FR", "ES", "BR", "IN")
LANGUAGES = (None, "en", "de", "fr", "es", "ja")
PRODUCTS = (None, "crm", "voice", "analytics")
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "Europe/London", "UTC")
REPS = tuple(f"r{n:02d}" for n in range(36))


def _rep(n: int) -> dict[str, Any]:
    rep: dict[str, Any] = {
        "id": REPS[n],
        "name": f"Rep {n}",
        "email": f"{REPS[n]}@example.com",
        "time_zone": ZONES[n % len(ZONES)],
    }
    if n % 4 == 0 or 9 <= n <= 14 or n >= 30:  # nights and weekends empty some pools
        rep["working_hours"] = "office"
    if n % 5 == 0 or n >= 33:
        rep["max_open"] = 4
    if n % 6 == 1:
        rep["daily_cap"] = 9
    if n % 3 == 0:
        rep["skills"] = ["enterprise"]
    if n % 4 == 1:
        rep["languages"] = ["de", "en"]
    elif n % 4 == 2:
        rep["languages"] = ["en", "ja"]
    if n == 2:
        rep["holidays"] = ["2026-11-24"]
    if n == 7:
        rep["active"] = False
    return rep


def _members(reps: Iterable[int], weights: tuple[int, ...] = (1,)) -> list[dict[str, Any]]:
    return [{"rep": REPS[n], "weight": weights[i % len(weights)]} for i, n in enumerate(reps)]


def config_document(version: int) -> dict[str, Any]:
    """Version 1, or version 2 with weights, a strategy and memberships changed."""
    late = version >= 2
    pools = [
        {
            "id": "rr",
            "strategy": "weighted" if late else "round_robin",
            "members": _members(range(0, 8), (2, 1) if late else (1,)),
            "fallback": "overflow",
        },
        {
            "id": "wt",
            "strategy": "weighted",
            "fairness": "catch_up",
            "catch_up_limit": 2,
            "members": _members(range(8, 16), (3, 1, 2) if late else (1, 2, 3)),
            "fallback": "overflow",
        },
        {
            "id": "ll",
            "strategy": "least_loaded",
            "members": _members(range(16, 23 if late else 24)),
            "fallback": "big",
        },
        {
            "id": "pr",
            "strategy": "weighted",
            "fairness": "pro_rata",
            "members": _members(range(24, 30), (2, 1)),
            "fallback": "overflow",
        },
        {
            "id": "ent",
            "strategy": "round_robin",
            "fairness": "catch_up",
            "required_skills": ["enterprise"],
            "members": _members(range(0, 36, 3)),
            "fallback": "big",
        },
        {
            "id": "big",
            "strategy": "weighted",
            "fairness": "catch_up",
            "members": _members(range(0, 30), (1, 2, 3, 5)),
            "fallback": "overflow",
        },
        {
            "id": "overflow",
            "strategy": "least_loaded",
            "members": _members(range(29 if late else 30, 36)),
        },
    ]
    return {
        "schedules": {"office": {d: "08:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")}},
        "territories": {"dach": ["DE", "AT"]},
        "reps": [_rep(n) for n in range(len(REPS))],
        "pools": pools,
        "rules": [
            {"id": "big-deal", "when": {"deal_value": {"min": 80_000}}, "pool": "ent"},
            {
                "id": "crm",
                "when": {"product": ["crm"]},
                "pool": "big",
                "required_skills": ["enterprise"] if late else [],
            },
            {"id": "dach", "when": {"territory": ["dach"]}, "pool": "wt"},
            {"id": "na", "when": {"country": ["US", "CA"]}, "pool": "ll"},
            {"id": "jp", "when": {"country": ["JP"], "language": ["ja"]}, "pool": "pr"},
            {"id": "gb", "when": {"country": ["GB"]}, "pool": "big"},
        ],
        "default_pool": "rr",
        "scoring": {
            "base": 5,
            "rules": [{"id": "rich", "when": {"deal_value": {"min": 20_000}}, "points": 30}],
        },
        "continuity": {"person_window": "2d", "company_domain_window": "1d", "dedup_window": "10m"},
    }


def versioned(version: int) -> VersionedConfig:
    return VersionedConfig(
        version, f"fixture-{version}", parse_routing_config(config_document(version))
    )


class Digest:
    """sha256 over records, each field length-prefixed so no two records hash alike."""

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self.records = 0

    def add(self, record: OutputRecord) -> None:
        self.records += 1
        self._field(record.topic.encode())
        self._field(record.key)
        self._field(record.value)
        self._field(str(len(record.headers)).encode())
        for name, value in record.headers:
            self._field(name.encode())
            self._field(value)
        self._field(None if record.partition is None else str(record.partition).encode())

    def _field(self, data: bytes | None) -> None:
        if data is None:
            self._sha.update(b"\xff")
            return
        self._sha.update(len(data).to_bytes(8, "big"))
        self._sha.update(data)

    def hexdigest(self) -> str:
        return self._sha.hexdigest()


def partition_of(key: bytes) -> int:
    return zlib.crc32(key) % PARTITIONS


@dataclass
class _Log:
    """One topic's partitions as appended records, and how far the consumer has read."""

    topic: str
    records: dict[int, list[InputRecord]] = field(default_factory=dict)
    read: dict[int, int] = field(default_factory=dict)

    def append(self, key: bytes, value: bytes | None, timestamp_ms: int) -> None:
        partition = partition_of(key)
        log = self.records.setdefault(partition, [])
        log.append(InputRecord(self.topic, partition, len(log), key, value, timestamp_ms))

    def unread(self) -> list[InputRecord]:
        """Every record not read yet, partition by partition in offset order; marks them read."""
        out: list[InputRecord] = []
        for partition in sorted(self.records):
            log = self.records[partition]
            out += log[self.read.get(partition, 0) :]
            self.read[partition] = len(log)
        return out


@dataclass(frozen=True, slots=True)
class _Owned:
    """What the SLA watcher's timer keeps of an assigned lead."""

    lead: Lead
    pool_id: str
    rep_id: str
    attempt: int
    previous_owners: tuple[str, ...]


@dataclass
class _Sla:
    """The SLA watcher's part: reassign some assignments, release others a while later."""

    rng: random.Random
    later: list[tuple[int, RoutingRequest]] = field(default_factory=list)

    def follow(self, owned: _Owned, round_no: int, now_ms: int) -> list[RoutingRequest]:
        draw = self.rng.random()
        if draw < 0.06 and owned.attempt < 3:
            return [self._request(owned, RequestKind.REASSIGN, now_ms)]
        if draw < 0.5:
            release = self._request(owned, RequestKind.RELEASE, now_ms)
            self.later.append((round_no + self.rng.randint(1, 12), release))
        return []

    def due(self, round_no: int, now_ms: int) -> list[RoutingRequest]:
        due = [r for at, r in self.later if at <= round_no]
        self.later = [(at, r) for at, r in self.later if at > round_no]
        return [r.model_copy(update={"requested_at_ms": now_ms}) for r in due]

    @staticmethod
    def _request(owned: _Owned, kind: RequestKind, now_ms: int) -> RoutingRequest:
        reassign = kind is RequestKind.REASSIGN
        lead = owned.lead
        return RoutingRequest(
            request_id=f"asg:{lead.lead_id}:{owned.attempt}:{kind.value}",
            kind=kind,
            lead_id=lead.lead_id,
            pool_id=owned.pool_id,
            lead=lead if reassign else None,
            rep_id=owned.rep_id,
            previous_owners=(*owned.previous_owners, owned.rep_id) if reassign else (),
            attempt=owned.attempt + 1 if reassign else owned.attempt,
            reason=f"fixture {kind.value}",
            received_at_ms=lead.received_at_ms,
            requested_at_ms=now_ms,
        )


class _Leads:
    """The inbound stream: new people, repeats from recent ones, exact duplicates, bad keys."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.at_ms = T0
        self.sent: list[Lead] = []
        self.count = 0

    def next(self) -> tuple[bytes, Lead]:
        rng = self.rng
        self.at_ms += rng.randint(1, 35) * 1000 + rng.randint(0, 999)
        draw = rng.random()
        if draw < 0.03 and self.sent:
            lead = rng.choice(self.sent[-200:])  # the same lead again: a duplicate
            return lead.identity_key.encode(), lead
        self.count += 1
        if draw < 0.15 and self.sent:  # someone who wrote a moment ago: a repeat
            identity = self.sent[-1 - rng.randint(0, min(30, len(self.sent) - 1))].identity_key
        else:
            person = rng.randint(0, 2_999)
            identity = f"p{person:04d}@c{person % 400}.example"
        lead = Lead(
            lead_id=f"lead-{self.count:05d}",
            identity_key=identity,
            channel=rng.choice(tuple(Channel)),
            source="form:contact",
            source_message_id=f"msg-{self.count:05d}",
            received_at_ms=self.at_ms,
            email=identity,
            company_domain=identity.split("@")[1] if rng.random() < 0.8 else None,
            country=rng.choice(COUNTRIES),
            language=rng.choice(LANGUAGES),
            product=rng.choice(PRODUCTS),
            deal_value=float(rng.choice((0, 500, 12_000, 45_000, 99_000))),
            message="hello" if rng.random() < 0.5 else None,
        )
        self.sent.append(lead)
        key = identity.encode()
        return (b"not-" + key, lead) if rng.random() < 0.004 else (key, lead)


class Run:
    """The two handlers over their stores, fed as the loop would feed them."""

    def __init__(self) -> None:
        self.rng = random.Random(SEED)
        self.digest = Digest()
        self.config = versioned(1)
        self.owners: dict[str, OwnerFact] = {}
        self.book = PresenceBook()
        self.presence_read = 0
        self.identity: StateStore[IdentityState] = StateStore("router.identity", identity_serde())
        self.rotation: StateStore[RotationRecord] = StateStore("router.rotation", rotation_serde())
        for partition in range(PARTITIONS):
            self.identity.adopt(partition)
            self.rotation.adopt(partition)
        self.triage = TriageHandler(
            TriageTopics(requests=TOPICS.requests),
            self.identity,
            config=lambda: self.config,
            owners=lambda: self.owners,
        )
        self.assign = AssignHandler(
            topics=TOPICS,
            store=self.rotation,
            config=lambda: self.config,
            presence=lambda: PresenceView(self.book.status_at, (self.presence_read,)),
            metrics=RouterMetrics.create(CollectorRegistry()),
            monotonic=lambda: 0.0,
        )
        self.requests = _Log(TOPICS.requests)
        self.sla = _Sla(random.Random(SEED + 1))
        self._leads = AvroCodec(Lead)
        self._request = AvroCodec(RoutingRequest)
        self.sent: dict[str, Lead] = {}
        self.owned: dict[str, _Owned] = {}
        self._owner = AvroCodec(OwnerFact)

    def run(self, checkpoints: tuple[int, ...] = CHECKPOINTS) -> dict[int, Checkpoint]:
        """Run until `max(checkpoints)` new leads were sent; the digest so far at each one."""
        stream = _Leads(self.rng)
        inbound = _Log(INBOUND)
        reached: dict[int, Checkpoint] = {}
        round_no = 0
        while len(reached) < len(checkpoints):
            round_no += 1
            for _ in range(BATCH):
                key, lead = stream.next()
                self.sent[lead.lead_id] = lead
                inbound.append(key, self._leads.encode(lead), stream.at_ms + 5)
            now = stream.at_ms
            self._between_transactions(now, stream.count)
            self._transaction(self.identity, inbound.unread(), self.triage, now)
            for request in self.sla.due(round_no, now + 2):
                self._append_request(request, now + 2)
            self._transaction(
                self.rotation, self.requests.unread(), self.assign.handle, now, round_no
            )
            for leads in checkpoints:
                if leads not in reached and stream.count >= leads:
                    reached[leads] = Checkpoint(self.digest.records, self.digest.hexdigest())
        return reached

    def _between_transactions(self, now: int, sent: int) -> None:
        if self.config.version == 1 and sent >= CONFIG_CHANGE_AT:
            self.config = versioned(2)
        if self.rng.random() < 0.35:
            rep = self.rng.choice(REPS)
            status = self.rng.choice(tuple(PresenceStatus))
            until = now + self.rng.randint(10, 240) * 60_000 if self.rng.random() < 0.6 else None
            self.book.record(
                RepPresence(rep_id=rep, status=status, until_ms=until, changed_at_ms=now)
            )
            self.presence_read += 1

    def _transaction(
        self,
        store: StateStore[Any],
        records: list[InputRecord],
        handle: Any,
        now: int,
        round_no: int = 0,
    ) -> None:
        for record in records:
            store.savepoint()
            try:
                outputs = handle(record)
            except PermanentError as exc:
                store.undo_to_savepoint()
                dead = OutputRecord(DEAD_LETTER, record.key, f"{exc.reason}: {exc.detail}".encode())
                self.digest.add(dead)
                continue
            for output in outputs:
                self.digest.add(output)
                self._route(output, now, round_no)
        for state_record in store.flush():
            self.digest.add(state_record)
        store.commit()

    def _route(self, output: OutputRecord, now: int, round_no: int) -> None:
        """Where an output goes next: requests to assign, owners to triage and the SLA part."""
        if output.topic == TOPICS.requests and output.key is not None:
            self.requests.append(output.key, output.value, now + 1)
        elif output.topic == TOPICS.owners and output.value is not None:
            fact = self._owner.decode(output.value)
            self.owners[fact.subject] = fact
            if fact.subject.startswith(PERSON_PREFIX):  # one per assigned lead
                self._assigned(fact, round_no, now + 2)

    def _assigned(self, fact: OwnerFact, round_no: int, now: int) -> None:
        before = self.owned.get(fact.lead_id)
        owned = _Owned(
            lead=self.sent[fact.lead_id],
            pool_id=fact.pool_id,
            rep_id=fact.rep_id,
            attempt=1 if before is None else before.attempt + 1,
            previous_owners=() if before is None else (*before.previous_owners, before.rep_id),
        )
        self.owned[fact.lead_id] = owned
        for request in self.sla.follow(owned, round_no, now):
            self._append_request(request, now)

    def _append_request(self, request: RoutingRequest, timestamp_ms: int) -> None:
        self.requests.append(request.pool_id.encode(), self._request.encode(request), timestamp_ms)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    records: int
    sha256: str


def recorded() -> dict[int, Checkpoint]:
    """The committed fixture: the digest after each checkpoint's number of leads."""
    document = json.loads(FIXTURE.read_text())
    return {int(leads): Checkpoint(**point) for leads, point in document["checkpoints"].items()}


def document(checkpoints: dict[int, Checkpoint]) -> str:
    points = {str(n): {"records": p.records, "sha256": p.sha256} for n, p in checkpoints.items()}
    return json.dumps({"seed": SEED, "checkpoints": points}, indent=2) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.unit.router.decision_digest")
    parser.add_argument("--write", action="store_true", help="overwrite the committed fixture")
    args = parser.parse_args(argv)
    text = document(Run().run())
    print(text, end="")
    if args.write:
        FIXTURE.parent.mkdir(parents=True, exist_ok=True)
        FIXTURE.write_text(text)


if __name__ == "__main__":
    main()
