from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from services.leads.events import (
    Assignment,
    PresenceStatus,
    RepPresence,
    RequestKind,
    RoutingRequest,
)
from services.leads.routing_config import RoutingConfig, VersionedConfig
from services.router.presence import PresenceLog
from services.router.replay import LoggedRecord, Recorded, ReplayReport, replay
from tests.unit.router.assign_builders import (
    ASSIGNMENTS,
    REQUESTS,
    TOPICS,
    Router,
    make_request,
    presence,
)
from tests.unit.router.config_builders import make_config, make_pool, make_rep

AT = 10**13


def fallback_config(weight: int = 2, overflow: tuple[str, ...] = ("cat",)) -> RoutingConfig:
    return make_config(
        reps=[make_rep("ann"), make_rep("bob", max_open=2), make_rep("cat"), make_rep("dan")],
        pools=[
            {
                "id": "general",
                "strategy": "weighted",
                "members": [{"rep": "ann", "weight": weight}, {"rep": "bob"}],
                "fallback": "overflow",
            },
            make_pool("overflow", overflow),
        ],
    )


@dataclass
class Live:
    """The assign handler, with what it reads and writes logged as the topics would hold it.

    Fallback requests wait in `in_flight` until `deliver()`, so a test can change config or
    presence between a pool's decision and its fallback pool's.
    """

    router: Router
    log: list[LoggedRecord] = field(default_factory=list)
    assignments: list[bytes] = field(default_factory=list)
    onward: dict[tuple[str, str], bytes] = field(default_factory=dict)
    in_flight: list[RoutingRequest] = field(default_factory=list)

    def send(self, request: RoutingRequest) -> None:
        value = REQUESTS.encode(request)
        self.log.append(LoggedRecord(TOPICS.requests, 0, self.router.offset,
                                     request.requested_at_ms + 5, request.pool_id.encode(),
                                     value))  # fmt: skip
        for output in self.router.send(request):
            assert output.value is not None
            if output.topic == TOPICS.assignments:
                self.assignments.append(output.value)
            elif output.topic == TOPICS.requests:
                follow = REQUESTS.decode(output.value)
                self.onward[(follow.request_id, follow.pool_id)] = output.value
                self.in_flight.append(follow)

    def deliver(self) -> None:
        while self.in_flight:
            self.send(self.in_flight.pop(0))

    def switch(self, version: int, config: RoutingConfig) -> None:
        self.router.version, self.router.config = version, config

    def decisions(self) -> list[Assignment]:
        return [ASSIGNMENTS.decode(value) for value in self.assignments]

    def replay(self, configs: dict[int, RoutingConfig]) -> ReplayReport:
        versioned = {v: VersionedConfig(v, f"hash-{v}", c) for v, c in configs.items()}
        presence_log = PresenceLog((0, i, p) for i, p in enumerate(self.router.presence_log))
        return replay(self.log, versioned, presence_log, Recorded(self.assignments, self.onward))


def live_run(config: RoutingConfig) -> Live:
    live = Live(Router(config))
    live.router.read_presence(presence("ann", PresenceStatus.AWAY, at_ms=0, until_ms=AT + 6))
    pending = [make_request(f"l{i}", requested_at_ms=AT + i) for i in range(10)]
    pending.insert(4, make_request("l1", kind=RequestKind.RELEASE, lead=None, request_id="rel1"))
    for request in pending:
        live.send(request)
        live.deliver()
    return live


def test_replaying_the_log_reproduces_every_decision_byte_for_byte() -> None:
    live = live_run(fallback_config())
    report = live.replay({1: fallback_config()})
    assert {o.kind for o in report.outputs} == {"assignment", "fallback"}
    assert len(report.outputs) == len(live.log)
    assert report.differences == [] and report.unrecorded == []
    assert report.unpositioned == 0


def test_replay_with_different_routing_reports_the_requests_that_differ() -> None:
    live = live_run(fallback_config(weight=2))
    report = live.replay({1: fallback_config(weight=1)})
    assert report.differences
    assert all(o.recorded is not None for o in report.differences)


def test_a_request_whose_config_version_is_gone_is_reported_not_guessed() -> None:
    live = live_run(fallback_config())
    report = live.replay({7: fallback_config()})
    assert report.outputs == [] and set(report.missing_versions.values()) == {1}


def test_presence_stamped_before_decisions_it_was_read_after_leaves_them_as_decided() -> None:
    """The issue's case: `reps set ann away` stamped earlier than requests decided before the
    router read it. Live, those requests had ann eligible; replay must too."""
    live = Live(Router(fallback_config()))
    for i in range(4):
        live.send(make_request(f"before-{i}", requested_at_ms=AT + 100 + i))
    live.router.read_presence(presence("ann", PresenceStatus.AWAY, at_ms=AT))
    for i in range(4):
        live.send(make_request(f"after-{i}", requested_at_ms=AT + 200 + i))
    live.deliver()

    skips = {d.lead_id: d.trace.candidates[0].skip_reason for d in live.decisions()}
    assert [skips[f"before-{i}"] for i in range(4)] == [None] * 4
    assert {skips[f"after-{i}"] for i in range(4)} == {"away: until further notice"}
    positions = {d.lead_id: d.trace.presence_position for d in live.decisions()}
    assert positions["before-0"] == (0,) and positions["after-0"] == (1,)
    report = live.replay({1: fallback_config()})
    assert report.differences == [] and len(report.outputs) == len(live.log)


def test_a_fallback_step_is_replayed_with_the_config_and_presence_that_pool_read() -> None:
    """General finds nobody (ann away, bob capped) and passes the lead on; before overflow
    decides, ann comes back and a new version staffs overflow differently. Replay must decide
    general's step as general saw it, not as the final decision did."""
    v1, v2 = fallback_config(), fallback_config(overflow=("dan",))
    live = Live(Router(v1))
    live.router.read_presence(presence("ann", PresenceStatus.AWAY, at_ms=0))
    live.router.read_presence(presence("bob", PresenceStatus.OFFLINE, at_ms=0))
    live.send(make_request("l1", requested_at_ms=AT))
    assert len(live.in_flight) == 1
    passed_on = live.in_flight[0]
    assert (passed_on.prior_config_version, passed_on.prior_presence_position) == (1, (2,))
    live.switch(2, v2)
    live.router.read_presence(presence("ann", PresenceStatus.AVAILABLE, at_ms=1))
    live.deliver()

    [decision] = live.decisions()
    assert (decision.rep_id, decision.trace.config_version) == ("dan", 2)
    report = live.replay({1: v1, 2: v2})
    assert [o.kind for o in report.outputs] == ["fallback", "assignment"]
    assert report.differences == [] and report.unrecorded == []


@dataclass(frozen=True)
class Step:
    kind: str  # "assign" | "release" | "presence" | "switch" | "deliver"
    pick: int
    status: PresenceStatus = PresenceStatus.AVAILABLE
    stamp: int = 0
    """A presence change's `changed_at_ms` relative to the current request time: often in
    the past (a slow or skewed client), sometimes in the future (`reps set --at`)."""


steps = st.lists(
    st.one_of(
        st.builds(Step, st.just("assign"), st.integers(0, 99)),
        st.builds(Step, st.just("release"), st.integers(0, 99)),
        st.builds(Step, st.just("switch"), st.integers(0, 1)),
        st.builds(Step, st.just("deliver"), st.just(0)),
        st.builds(
            Step,
            st.just("presence"),
            st.integers(0, 3),
            st.sampled_from(list(PresenceStatus)),
            st.integers(-20_000, 5_000),
        ),
    ),
    max_size=60,
)


@settings(max_examples=80, deadline=None)
@given(steps=steps)
def test_replay_reproduces_any_interleaving_of_requests_presence_config_and_fallbacks(
    steps: list[Step],
) -> None:
    configs = {1: fallback_config(), 2: fallback_config(weight=1, overflow=("cat", "dan"))}
    live = Live(Router(configs[1]))
    reps = ("ann", "bob", "cat", "dan")
    opened: list[str] = []
    for i, step in enumerate(steps):
        at = AT + i * 1000
        if step.kind == "assign":
            live.send(make_request(f"lead-{i}", requested_at_ms=at))
            opened.append(f"lead-{i}")
        elif step.kind == "release" and opened:
            lead = opened.pop(step.pick % len(opened))
            live.send(make_request(lead, kind=RequestKind.RELEASE, lead=None,
                                   request_id=f"rel-{i}", requested_at_ms=at))  # fmt: skip
        elif step.kind == "presence":
            change = RepPresence(rep_id=reps[step.pick], status=step.status,
                                 changed_at_ms=at + step.stamp)  # fmt: skip
            live.router.read_presence(change)
        elif step.kind == "switch":
            version = step.pick + 1
            live.switch(version, configs[version])
        elif step.kind == "deliver":
            live.deliver()
    live.deliver()

    report = live.replay(configs)
    assert len(report.outputs) == len(live.log)
    assert report.differences == [] and report.unrecorded == []
