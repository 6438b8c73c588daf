"""Replay stays exact under config publishes, presence changes, activity and restarts, interleaved.

The router decides on the real broker in four phases. Between and during them:

- presence set with `leadrouter reps set --at` stamped *before* requests the router has already
  decided (a client clock behind, or a slow write): the live decisions did not see it, so the
  replay must not apply it to them either;
- presence changes written while the router is busy, racing its batches;
- a second config version published mid-stream;
- activity as it reaches the router: reassign requests for rejected leads, and releases;
- the router SIGKILLed mid-stream and restarted, and restarted again between phases.

Then `leadrouter replay --from-beginning` must reproduce every decision and every fallback
request byte for byte, and exit 0.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from services.cli.replay_cmd import read_log
from services.leads.events import (
    Assignment,
    Outcome,
    PresenceStatus,
    RepPresence,
    RequestKind,
    RoutingRequest,
)
from services.leads.topics import Topic
from services.router.config_source import publish_config
from services.streaming.codec import AvroCodec
from services.streaming.settings import KafkaSettings
from tests.integration.router.router_io import feed, publish_presence
from tests.integration.router.router_process import RouterProcess, cli
from tests.integration.router.scenario import (
    STEP_MS,
    T0,
    document,
    presence_changes,
    requests,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LEADS = 800


def decided(settings: KafkaSettings, wanted: int, timeout_s: float = 60) -> list[Assignment]:
    """The committed decisions, once at least `wanted` are in."""
    codec = AvroCodec(Assignment)
    deadline = time.monotonic() + timeout_s
    while True:
        records = read_log(settings, Topic.ASSIGNMENTS)
        if len(records) >= wanted or time.monotonic() > deadline:
            return [codec.decode(r.value) for r in records if r.value is not None]
        time.sleep(0.3)


def iso(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, tz=UTC).isoformat()


def set_presence_late(settings: KafkaSettings, rep: str, status: str, at_ms: int) -> None:
    """`leadrouter reps set` stamped at `at_ms`, a time the router has already decided past."""
    done = cli(settings, "reps", "set", rep, status, "--at", iso(at_ms))
    assert done.returncode == 0, done.stderr


def reassigns(decisions: list[Assignment], at_ms: int, count: int) -> list[RoutingRequest]:
    """Rejections, as the SLA watcher turns them into requests: reassign, excluding the owner."""
    owned = [
        d
        for d in decisions
        if d.outcome is Outcome.ASSIGNED and d.kind is RequestKind.ASSIGN and d.rep_id
    ]
    return [
        RoutingRequest(
            request_id=f"rea-{d.lead_id}",
            kind=RequestKind.REASSIGN,
            lead_id=d.lead_id,
            pool_id=d.pool_id,
            lead=d.lead,
            rep_id=d.rep_id,
            previous_owners=(d.rep_id or "",),
            attempt=2,
            reason="rejected",
            received_at_ms=d.received_at_ms,
            requested_at_ms=at_ms + i,
        )
        for i, d in enumerate(sorted(owned, key=lambda d: d.lead_id)[:count])
    ]


def test_replay_reproduces_every_decision_under_interleaved_changes_and_restarts(
    topics: KafkaSettings, router: RouterProcess
) -> None:
    stream = requests(LEADS)
    quarter = len(stream) // 4
    phases = [stream[i * quarter : (i + 1) * quarter] for i in range(3)] + [stream[3 * quarter :]]

    def time_of(phase: int, fraction: float) -> int:
        chunk = phases[phase]
        first, last = chunk[0].requested_at_ms, chunk[-1].requested_at_ms
        return first + int((last - first) * fraction)

    publish_config(topics, document(1), published_by="test", now_ms=1)
    publish_presence(topics, presence_changes(LEADS)[:4])
    router.start()
    fed = 0

    def run_phase(chunk: list[RoutingRequest], halfway: Callable[[], object]) -> list[Assignment]:
        nonlocal fed
        feed(topics, chunk, seconds=2.0, halfway=halfway).join(60)
        fed += len(chunk)
        return decided(topics, fed)

    def kill_and_restart() -> None:
        router.kill()
        router.start()

    def publish_v2_and_race() -> None:
        publish_config(topics, document(2), published_by="test", now_ms=2)
        publish_presence(topics, [
            RepPresence(rep_id="ann", status=PresenceStatus.AWAY, changed_at_ms=T0),
            RepPresence(rep_id="fay", status=PresenceStatus.AVAILABLE,
                        changed_at_ms=time_of(1, 0.1)),
        ])  # fmt: skip

    def race_and_kill() -> None:
        publish_presence(topics, [
            RepPresence(rep_id="eve", status=PresenceStatus.OFFLINE, changed_at_ms=time_of(2, 0.2)),
            RepPresence(rep_id="dan", status=PresenceStatus.AVAILABLE,
                        changed_at_ms=time_of(2, 0.3)),
        ])  # fmt: skip
        kill_and_restart()

    first = run_phase(phases[0], halfway=lambda: None)
    # Stamped in the middle of phase 0, written after all of it was decided.
    set_presence_late(topics, "dan", "offline", time_of(0, 0.5))
    set_presence_late(topics, "fay", "away", time_of(0, 0.4))
    rejected = reassigns(first, time_of(1, 0.0), count=12)
    run_phase(rejected + phases[1], halfway=publish_v2_and_race)
    kill_and_restart()
    set_presence_late(topics, "ann", "available", time_of(1, 0.9))
    run_phase(phases[2], halfway=race_and_kill)
    set_presence_late(topics, "eve", "available", time_of(2, 0.6))
    set_presence_late(topics, "gus", "offline", time_of(3, 0.0) - STEP_MS)
    decisions = run_phase(phases[3], halfway=lambda: None)
    router.stop()

    assert len(decisions) == fed == len(stream) + len(rejected), router.logs()
    assert {d.trace.config_version for d in decisions} == {1, 2}
    assert any(d.kind is RequestKind.REASSIGN for d in decisions)
    fallbacks = sum(len(d.trace.pools_tried) - 1 for d in decisions)
    assert fallbacks > 0  # fallback requests are replayed and compared too

    replayed = cli(topics, "replay", "--from-beginning", "--into", topics.topic("replayed"))
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert f"identical to the recorded ones: {fed + fallbacks}" in replayed.stdout
    assert "different:                      0" in replayed.stdout
