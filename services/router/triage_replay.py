"""Replay of triage: the `leads.inbound` log through `TriageHandler` again, compared with the
assign requests it recorded in `routing.requests`.

Triage's output is a function of the lead record, the person's identity memory (rebuilt here
from empty, partition by partition in offset order, as the live router built it), the config
in force and the owner facts it had read. A request does not record the last two, so replay
takes them from what was recorded downstream:

- the config version is the one the first assign step of that lead names (its Assignment's
  trace, or the fallback request's `prior_config_version`): a version published between
  triage and assign makes that lead differ, and the report says so;
- owners are those established by recorded Assignments decided before the lead's record time
  (the latest per subject). Live, triage learns an owner a commit after assign wrote it, so a
  lead that reaches triage within that commit of its owner's decision can differ.
- the identity graph is rebuilt from the inbound log itself (`LinksAt`): as of a lead's record
  time, the links of every routable lead recorded before it, on any partition, merged by the
  same `identity_graph.linked` the live router and the backtest use. Live, a link another
  partition made reaches triage a commit or two later (a request, then the table), so two
  leads of a new person on different partitions within that window can differ.

The requests are produced by the live handler (decoding, validation, the lead's bytes passed
through, headers), so a replayed request matches the recorded one byte for byte when its
inputs are the same.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping

from services.leads.events import Assignment, Lead, Outcome, RequestKind, RoutingRequest
from services.leads.routing_config import VersionedConfig
from services.router.identity_graph import IdentityLinks, linked
from services.router.identity_links import IdentityLinker, identity_links_serde
from services.router.identity_state import IdentityState
from services.router.ownership import OwnerFact, owner_facts
from services.router.replay import LoggedRecord, Recorded, Replayed, ReplayReport
from services.router.triage import TriageHandler, TriageTopics, identity_serde, lead_problem
from services.router.triage_decision import assign_request_id
from services.streaming.codec import AvroCodec
from services.streaming.errors import PermanentError
from services.streaming.records import InputRecord
from services.streaming.state import StateStore


class OwnersAt(Mapping[str, OwnerFact]):
    """Owner facts as of a time: per subject, the latest fact assigned strictly before `at_ms`."""

    def __init__(self, assignments: Iterable[Assignment]) -> None:
        facts: dict[str, list[tuple[int, str, OwnerFact]]] = {}
        for a in assignments:
            if a.outcome is not Outcome.ASSIGNED or not a.rep_id or a.lead is None:
                continue
            for fact in owner_facts(
                identity_key=a.lead.identity_key,
                company_domain=a.lead.company_domain,
                rep_id=a.rep_id,
                pool_id=a.pool_id,
                lead_id=a.lead_id,
                assigned_at_ms=a.decided_at_ms,
            ):
                facts.setdefault(fact.subject, []).append((fact.assigned_at_ms, a.lead_id, fact))
        self._facts = {subject: sorted(found) for subject, found in facts.items()}
        self._times = {s: [t for t, _, _ in found] for s, found in self._facts.items()}
        self.at_ms = 0

    def __getitem__(self, subject: str) -> OwnerFact:
        times = self._times.get(subject)
        index = -1 if times is None else bisect_left(times, self.at_ms) - 1
        if times is None or index < 0:
            raise KeyError(subject)
        return self._facts[subject][index][2]

    def __iter__(self) -> Iterator[str]:
        return iter(self._facts)

    def __len__(self) -> int:
        return len(self._facts)


class LinksAt(Mapping[str, IdentityLinks]):
    """The identity graph as of a time: each identifier's record after the links of every
    routable lead whose record time is strictly before `at_ms`."""

    def __init__(self, inbound: Iterable[LoggedRecord]) -> None:
        codec = AvroCodec(Lead)
        leads = []
        for record in inbound:
            try:
                lead = codec.decode(record.value) if record.value is not None else None
            except PermanentError:
                continue
            if lead is not None and lead_problem(lead, record.key) is None:
                leads.append((record.timestamp_ms, record.partition, record.offset, lead))
        graph: dict[str, IdentityLinks] = {}
        self._records: dict[str, list[IdentityLinks]] = {}
        self._times: dict[str, list[int]] = {}
        for at_ms, _partition, _offset, lead in sorted(leads, key=lambda found: found[:3]):
            for identifier, updated in linked(graph.get, lead).items():
                graph[identifier] = updated
                self._records.setdefault(identifier, []).append(updated)
                self._times.setdefault(identifier, []).append(at_ms)
        self.at_ms = 0

    def __getitem__(self, identifier: str) -> IdentityLinks:
        times = self._times.get(identifier)
        index = -1 if times is None else bisect_left(times, self.at_ms) - 1
        if times is None or index < 0:
            raise KeyError(identifier)
        return self._records[identifier][index]

    def __iter__(self) -> Iterator[str]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)


def triage_requests(requests: Iterable[LoggedRecord]) -> dict[str, bytes]:
    """The assign requests triage wrote (first of their chain, kind assign), by request id."""
    codec = AvroCodec(RoutingRequest)
    found = {}
    for record in requests:
        if record.value is None:
            continue
        try:
            request = codec.decode(record.value)
        except PermanentError:
            continue
        if request.kind is RequestKind.ASSIGN and not request.pools_tried:
            found[request.request_id] = record.value
    return found


def replay_triage(
    inbound: Iterable[LoggedRecord],
    configs: Mapping[int, VersionedConfig],
    recorded: Recorded,
    written: Mapping[str, bytes],
    report: ReplayReport,
) -> None:
    """Triage `inbound` again (offset order per partition); add each request to `report`."""
    inbound = list(inbound)
    assignment = AvroCodec(Assignment)
    owners = OwnersAt(assignment.decode(v) for v in recorded.assignments.values())
    graph = LinksAt(inbound)
    requests, leads = AvroCodec(RoutingRequest), AvroCodec(Lead)
    store: StateStore[IdentityState] = StateStore("router.identity", identity_serde())
    # Never committed: every lookup falls through to `graph`, the links as of the record time.
    links: StateStore[IdentityLinks] = StateStore("router.identity-links", identity_links_serde())
    current: list[VersionedConfig] = []
    topics = TriageTopics("routing.requests")
    handler = TriageHandler(
        topics,
        store,
        config=lambda: current[0],
        owners=lambda: owners,
        linker=IdentityLinker(topics.link_requests, links, lambda: graph),
    )
    newest = max(configs) if configs else None
    adopted: set[int] = set()
    for record in inbound:
        if record.partition not in adopted:
            store.adopt(record.partition)
            links.adopt(record.partition)
            adopted.add(record.partition)
        version = _version(record, (leads, requests), written, recorded, newest)
        if version is None or version not in configs:
            report.missing_versions[f"{record.partition}:{record.offset}"] = version or 0
            continue
        current[:] = [configs[version]]
        owners.at_ms = graph.at_ms = record.timestamp_ms
        input_record = InputRecord(record.topic, record.partition, record.offset, record.key,
                                   record.value, record.timestamp_ms)  # fmt: skip
        store.savepoint()
        try:
            outputs = handler(input_record)
        except PermanentError:
            store.undo_to_savepoint()
            continue
        finally:
            links.rollback()
        store.flush()
        store.commit()
        for output in outputs:
            if output.topic != topics.requests:
                continue  # link requests: `graph` holds their effect already
            request = requests.decode(output.value)
            report.outputs.append(
                Replayed(
                    request.request_id,
                    "triage",
                    output.key or b"",
                    output.value or b"",
                    written.get(request.request_id),
                )
            )


def _version(
    record: LoggedRecord,
    codecs: tuple[AvroCodec[Lead], AvroCodec[RoutingRequest]],
    written: Mapping[str, bytes],
    recorded: Recorded,
    newest: int | None,
) -> int | None:
    """The config version the first assign step of this record's lead decided with; the
    newest for a record triage wrote nothing for (a duplicate, a dead letter)."""
    leads, requests = codecs
    try:
        value = written.get(assign_request_id(leads.decode(record.value).lead_id))
    except PermanentError:
        return newest  # the handler dead-letters it again
    if value is None:
        return newest
    seen = recorded.step(requests.decode(value), newest)
    return None if seen is None else seen.config_version
