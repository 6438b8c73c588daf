"""Presence set with the CLI steers the live router, and a replay reproduces its decisions.

A short stream on the real broker: `leadrouter reps set` takes a rep offline from a given event
time, other presence changes empty a pool so its leads fall back, the router decides, and
`leadrouter replay --from-beginning` must find every recorded decision and fallback request
reproduced byte for byte (exit 0). SIGTERM stops the router cleanly (exit 0).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.leads.events import Outcome
from services.router.config_source import publish_config
from services.streaming.settings import KafkaSettings
from tests.integration.router.router_io import feed, publish_presence, read_decisions
from tests.integration.router.router_process import RouterProcess, cli
from tests.integration.router.scenario import (
    STEP_MS,
    T0,
    document,
    presence_changes,
    requests,
)

pytestmark = pytest.mark.integration

LEADS = 400


def test_cli_presence_steers_decisions_and_replay_reproduces_them(
    topics: KafkaSettings, router: RouterProcess
) -> None:
    publish_config(topics, document(1), published_by="test", now_ms=1)
    offline_from = T0 + 100 * STEP_MS
    at = datetime.fromtimestamp(offline_from / 1000, tz=UTC).isoformat()
    done = cli(topics, "reps", "set", "dan", "offline", "--at", at)
    assert done.returncode == 0, done.stderr
    publish_presence(topics, presence_changes(LEADS))
    stream = requests(LEADS)
    router.start()
    feed(topics, stream, seconds=0).join(30)
    decisions = read_decisions(topics, wanted=len(stream), deadline_s=60)
    router.stop()
    assert router.process is not None and router.process.returncode == 0, router.logs()
    assert len(decisions) == len(stream)

    dan = [d for d in decisions if d.rep_id == "dan" and d.outcome is Outcome.ASSIGNED]
    assert dan and all(d.lead and d.lead.received_at_ms < offline_from for d in dan)
    skipped = [
        c.skip_reason
        for d in decisions
        if d.lead and d.lead.received_at_ms >= offline_from
        for c in d.trace.candidates
        if c.rep_id == "dan"
    ]
    assert skipped and set(skipped) == {"offline: until further notice"}

    fallbacks = sum(len(d.trace.pools_tried) - 1 for d in decisions)
    assert fallbacks > 0  # so fallback requests are replayed and compared too

    replayed = cli(topics, "replay", "--from-beginning", "--into", topics.topic("replayed"))
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert f"identical to the recorded ones: {len(stream) + fallbacks}" in replayed.stdout
    assert "different:                      0" in replayed.stdout
