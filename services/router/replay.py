"""Replay: decide the logged routing requests again and compare with the recorded decisions.

A decision is a pure function of what the router had read (config version, rotation state,
presence at a table position, request), and its output records what it read: an Assignment's
trace names the config version and the `reps.presence` position; a fallback request names the
same for the pool that passed it on (`prior_config_version`, `prior_presence_position`). So the
requests in `routing.requests`, decided again partition by partition in offset order from empty
rotation state, each with the config version and presence position its recorded output names,
must reproduce the recorded `Assignment`s and fallback requests byte for byte.

What can make a replay differ, each reported per request: a log whose beginning was deleted by
retention (the replay then starts from empty state, which the original did not); presence
records below a decision's position removed by compaction since; a config version since deleted
from `routing.config`; and, of course, a change in the decision code. A decision recorded before
positions were traced reads presence from the whole log (`unpositioned` counts them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from services.leads.events import Assignment, RoutingRequest, operator_act
from services.leads.routing_config import VersionedConfig
from services.router.decisions import (
    Decided,
    Origin,
    assignment_id,
    decide,
    prefer_repeat_owner,
)
from services.router.presence import Position, PresenceLog
from services.router.rotation import RotationState
from services.streaming.codec import AvroCodec
from services.streaming.errors import DecodeError
from services.streaming.records import Headers


@dataclass(frozen=True, slots=True)
class LoggedRecord:
    """A record as read back from a topic: its position, time and bytes."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: Headers = ()


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
    unpositioned: int = 0
    """Steps whose recorded output names no presence position (written by an older router)."""

    @property
    def differences(self) -> list[Replayed]:
        return [o for o in self.outputs if o.recorded is not None and not o.same]

    @property
    def unrecorded(self) -> list[Replayed]:
        return [o for o in self.outputs if o.recorded is None]


@dataclass(frozen=True, slots=True)
class Seen:
    """What one recorded decision says it read."""

    config_version: int
    presence_position: Position


class Recorded:
    """The decisions the live router wrote, indexed for comparison and for what each read."""

    def __init__(self, assignments: Iterable[bytes], onward: Mapping[tuple[str, str], bytes]):
        codec = AvroCodec(Assignment)
        self.assignments: dict[str, bytes] = {}
        self.versions: dict[str, int] = {}
        self.seen: dict[tuple[str, str], Seen] = {}
        """(assignment id, the pool that decided) -> what that step read."""
        for value in assignments:
            decided = codec.decode(value)
            trace = decided.trace
            self.assignments[decided.assignment_id] = value
            self.versions[decided.assignment_id] = trace.config_version
            step = (decided.assignment_id, trace.pools_tried[-1] if trace.pools_tried else "")
            self.seen[step] = Seen(trace.config_version, trace.presence_position)
        self.onward = dict(onward)
        """(request id, fallback pool) -> the fallback request the router wrote."""
        requests = AvroCodec(RoutingRequest)
        for value in self.onward.values():
            passed = requests.decode(value)
            if passed.prior_config_version is not None and passed.pools_tried:
                step = (assignment_id(passed), passed.pools_tried[-1])
                self.seen[step] = Seen(passed.prior_config_version, passed.prior_presence_position)

    def step(self, request: RoutingRequest, newest: int | None) -> Seen | None:
        """What the recorded decision of `request` in its pool read; for an output written
        before that was recorded, the final decision's config version and the whole log."""
        asg_id = assignment_id(request)
        seen = self.seen.get((asg_id, request.pool_id))
        if seen is not None:
            return seen
        version = self.versions.get(asg_id, newest)
        return None if version is None else Seen(version, ())


def replay(
    requests: Iterable[LoggedRecord],
    configs: Mapping[int, VersionedConfig],
    presence: PresenceLog,
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
        seen = recorded.step(request, newest)
        if seen is None or seen.config_version not in configs:
            report.missing_versions[request.request_id] = seen.config_version if seen else 0
            continue
        report.unpositioned += not seen.presence_position
        state = states.get(request.pool_id) or RotationState.empty(request.pool_id)
        origin = Origin(record.topic, record.partition, record.offset, record.timestamp_ms)
        if request.repeat_of is not None:
            earlier = holders.get((request.pool_id, request.repeat_of))
            request = prefer_repeat_owner(request, earlier)
        lead = (request.pool_id, request.lead_id)
        view = presence.view(seen.presence_position)
        decision = decide(
            configs[seen.config_version], state, view, request, origin,
            holder=holders.get(lead), operator=operator_act(record.headers),
        )  # fmt: skip
        states[request.pool_id] = decision.state
        if decision.holder is None:
            holders.pop(lead, None)
        else:
            holders[lead] = decision.holder
        if isinstance(decision, Decided):
            value = decisions.encode(decision.assignment)
            key = decision.assignment.lead_id.encode()
            asg_id = decision.assignment.assignment_id
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
