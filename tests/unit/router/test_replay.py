from __future__ import annotations

from services.leads.events import PresenceStatus, RequestKind
from services.leads.routing_config import RoutingConfig, VersionedConfig
from services.router.replay import LoggedRecord, Recorded, replay
from tests.unit.router.assign_builders import REQUESTS, TOPICS, Router, make_request, presence
from tests.unit.router.config_builders import make_config, make_pool, make_rep


def fallback_config(weight: int = 2) -> RoutingConfig:
    return make_config(
        reps=[make_rep("ann"), make_rep("bob", max_open=2), make_rep("cat")],
        pools=[
            {
                "id": "general",
                "strategy": "weighted",
                "members": [{"rep": "ann", "weight": weight}, {"rep": "bob"}],
                "fallback": "overflow",
            },
            make_pool("overflow", ("cat",)),
        ],
    )


def live_run(config: RoutingConfig) -> tuple[list[LoggedRecord], Recorded, Router]:
    """Run requests through the handler, logging inputs and outputs as the topics would."""
    router = Router(config)
    router.book.record(presence("ann", PresenceStatus.AWAY, at_ms=0, until_ms=10**13 + 6))
    log: list[LoggedRecord] = []
    assignments: list[bytes] = []
    onward: dict[tuple[str, str], bytes] = {}
    pending = [make_request(f"l{i}", requested_at_ms=10**13 + i) for i in range(10)]
    pending.insert(4, make_request("l1", kind=RequestKind.RELEASE, lead=None, request_id="rel1"))
    while pending:
        request = pending.pop(0)
        value = REQUESTS.encode(request)
        log.append(LoggedRecord(TOPICS.requests, 0, router.offset, request.requested_at_ms + 5,
                                request.pool_id.encode(), value))  # fmt: skip
        for output in router.send(request):
            assert output.value is not None
            if output.topic == TOPICS.assignments:
                assignments.append(output.value)
            elif output.topic == TOPICS.requests:
                follow = REQUESTS.decode(output.value)
                onward[(follow.request_id, follow.pool_id)] = output.value
                pending.insert(0, follow)
    return log, Recorded(assignments, onward), router


def test_replaying_the_log_reproduces_every_decision_byte_for_byte() -> None:
    config = fallback_config()
    log, recorded, router = live_run(config)
    configs = {1: VersionedConfig(1, "hash-1", config)}
    report = replay(log, configs, router.book.status_at, recorded)
    kinds = {o.kind for o in report.outputs}
    assert kinds == {"assignment", "fallback"}
    assert len(report.outputs) == len(log)
    assert report.differences == [] and report.unrecorded == []


def test_replay_with_different_routing_reports_the_requests_that_differ() -> None:
    log, recorded, router = live_run(fallback_config(weight=2))
    changed = {1: VersionedConfig(1, "hash-1", fallback_config(weight=1))}
    report = replay(log, changed, router.book.status_at, recorded)
    assert report.differences
    assert all(o.recorded is not None for o in report.differences)


def test_a_request_whose_config_version_is_gone_is_reported_not_guessed() -> None:
    config = fallback_config()
    log, recorded, router = live_run(config)
    report = replay(log, {7: VersionedConfig(7, "h", config)}, router.book.status_at, recorded)
    assert report.outputs == [] and set(report.missing_versions.values()) == {1}
