"""The router on a real broker, SIGKILLed three times mid-stream, against the pure strategy.

10,000 leads over three pools (mixed weights and strategies, a fallback pool), presence changes,
daily and open-lead caps, releases, and a config publish halfway. Afterwards: every lead has
exactly one decision and every release one; per-rep counts and each pool's final rotation state
equal what the pure decision code computes from the same requests (so each restart continued
the rotation where the committed state left it); config versions only move forward.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict

import pytest

from services.leads.events import RequestKind
from services.router.config_source import publish_config
from services.streaming.settings import KafkaSettings
from tests.integration.router.router_io import (
    feed,
    final_states,
    publish_presence,
    read_decisions,
    wait_for_output,
)
from tests.integration.router.router_process import RouterProcess
from tests.integration.router.scenario import (
    document,
    expected,
    presence_changes,
    requests,
    tally,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LEADS = 10_000
FEED_SECONDS = 14.0


def publish_version_2_once_deciding(settings: KafkaSettings) -> None:
    """Publish version 2 once the router has written a few batches under version 1, so both
    versions decide, however slowly this machine started the router."""
    wait_for_output(settings, above=500, timeout_s=60)
    publish_config(settings, document(2), published_by="test", now_ms=2)


def test_router_killed_three_times_decides_every_request_once_as_the_pure_strategy_does(
    topics: KafkaSettings, router: RouterProcess
) -> None:
    stream = requests(LEADS)
    presence = presence_changes(LEADS)
    publish_config(topics, document(1), published_by="test", now_ms=1)
    publish_presence(topics, presence)
    router.start()
    feeder = feed(
        topics,
        stream,
        FEED_SECONDS,
        halfway=lambda: publish_version_2_once_deciding(topics),
    )
    rng = random.Random(20261123)
    written = 0
    for _ in range(3):
        written = wait_for_output(topics, above=written, timeout_s=30)  # it is deciding now
        time.sleep(rng.uniform(0.2, 1.5))
        router.kill()
        router.start()
    feeder.join(60)
    decisions = read_decisions(topics, wanted=len(stream), deadline_s=90)
    router.stop()

    by_request = Counter(d.assignment_id for d in decisions)
    doubled = {k: n for k, n in by_request.items() if n > 1}
    assert not doubled, f"{len(doubled)} requests decided twice, e.g. {list(doubled)[:3]}"
    missing = {f"asg:{r.request_id}" for r in stream} - set(by_request)
    assert not missing, f"{len(missing)} requests never decided, e.g. {sorted(missing)[:3]}\n" + (
        router.logs()
    )
    first = [d for d in decisions if d.kind is RequestKind.ASSIGN]
    assert len({d.lead_id for d in first}) == LEADS == len(first)

    by_partition: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for d in decisions:
        by_partition[d.trace.input_partition].append((d.trace.input_offset, d.trace.config_version))
    for partition, seen in by_partition.items():
        versions = [v for _, v in sorted(seen)]
        assert versions == sorted(versions), f"partition {partition} went back to an old version"
    assert {d.trace.config_version for d in decisions} == {1, 2}

    version_of = {d.assignment_id.removeprefix("asg:"): d.trace.config_version for d in decisions}
    want = expected(stream, presence, version_of)
    per_rep, unassigned, released = tally(decisions)
    assert per_rep == want.assigned_per_rep
    assert (unassigned, released) == (want.unassigned, want.released)
    assert unassigned > 0 and per_rep["hal"] > 0  # the scenario did reach fallback and beyond
    assert final_states(topics) == (want.states, want.open_leads)
