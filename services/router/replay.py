"""Replay: decide the logged routing requests again and compare with the recorded decisions.

Decisions are a pure function of (config version, rotation state, presence, request), so the
requests in `routing.requests`, decided again partition by partition in offset order from empty
rotation state, must reproduce the recorded `Assignment`s byte for byte (and each fallback
request the router wrote). Each request is decided with the config version its recorded
decision names; presence is joined by event time from the whole `reps.presence` log.

What can make a replay differ, each reported per request: a log whose beginning was deleted by
retention (the replay then starts from empty state, which the original did not); a presence
change older than the request that arrived only after it was decided live; a config version
since deleted from `routing.config`; and, of course, a change in the decision code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from services.leads.events import Assignment, RoutingRequest
from services.leads.routing_config import VersionedConfig
from services.router.decisions import Decided, Origin, assignment_id, decide
from services.router.eligibility import PresenceAt
from services.router.rotation import RotationState
from services.streaming.codec import AvroCodec
from services.streaming.errors import DecodeError


@dataclass(frozen=True, slots=True)
class LoggedRecord:
    """A record as read back from a topic: its position, time and bytes."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True, slots=True)
class Replayed:
    """One replayed output: `kind` is `assignment` or `fallback`; `recorded` None when absent."""

    request_id: str
    kind: str
    key: bytes
    value: bytes
    recorded: bytes | None

    @property
    def same(self) -> bool:
        return self.value == self.recorded


@dataclass
class ReplayReport:
    outputs: list[Replayed] = field(default_factory=list)
    undecodable: list[LoggedRecord] = field(default_factory=list)
    missing_versions: dict[str, int] = field(default_factory=dict)
    """Request id -> the recorded config version that is no longer published."""

    @property
    def differences(self) -> list[Replayed]:
        return [o for o in self.outputs if o.recorded is not None and not o.same]

    @property
    def unrecorded(self) -> list[Replayed]:
        return [o for o in self.outputs if o.recorded is None]


class Recorded:
    """The decisions the live router wrote, indexed for comparison."""

    def __init__(self, assignments: Iterable[bytes], onward: Mapping[tuple[str, str], bytes]):
        codec = AvroCodec(Assignment)
        self.assignments: dict[str, bytes] = {}
        self.versions: dict[str, int] = {}
        for value in assignments:
            decided = codec.decode(value)
            self.assignments[decided.assignment_id] = value
            self.versions[decided.assignment_id] = decided.trace.config_version
        self.onward = dict(onward)
        """(request id, fallback pool) -> the fallback request the router wrote."""


def replay(
    requests: Iterable[LoggedRecord],
    configs: Mapping[int, VersionedConfig],
    presence: PresenceAt,
    recorded: Recorded,
) -> ReplayReport:
    """Decide every request again; `requests` in offset order within each partition."""
    codec = AvroCodec(RoutingRequest)
    decisions = AvroCodec(Assignment)
    states: dict[str, RotationState] = {}
    holders: dict[tuple[str, str], str] = {}
    report = ReplayReport()
    newest = max(configs) if configs else None
    for record in requests:
        try:
            request = codec.decode(record.value)
        except DecodeError:
            report.undecodable.append(record)  # the live router dead-lettered it too
            continue
        asg_id = assignment_id(request)
        version = recorded.versions.get(asg_id, newest)
        if version is None or version not in configs:
            report.missing_versions[request.request_id] = version or 0
            continue
        state = states.get(request.pool_id) or RotationState.empty(request.pool_id)
        origin = Origin(record.topic, record.partition, record.offset, record.timestamp_ms)
        lead = (request.pool_id, request.lead_id)
        decision = decide(
            configs[version], state, presence, request, origin, holder=holders.get(lead)
        )
        states[request.pool_id] = decision.state
        if decision.holder is None:
            holders.pop(lead, None)
        else:
            holders[lead] = decision.holder
        if isinstance(decision, Decided):
            value = decisions.encode(decision.assignment)
            key = decision.assignment.lead_id.encode()
            report.outputs.append(
                Replayed(
                    request.request_id, "assignment", key, value, recorded.assignments.get(asg_id)
                )
            )
        else:
            onward = decision.request
            value = codec.encode(onward)
            previous = recorded.onward.get((onward.request_id, onward.pool_id))
            report.outputs.append(
                Replayed(request.request_id, "fallback", onward.pool_id.encode(), value, previous)
            )
    return report
