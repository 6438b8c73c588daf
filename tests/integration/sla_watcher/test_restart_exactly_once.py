"""SIGKILL the watcher while 1,000 timers are pending; after the restart every due step has
fired exactly once (read_committed), none before its due time plus grace, and the ones that
fell due while it was down fired after the restore."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.leads.events import Escalation, EscalationStep, RoutingRequest
from services.leads.topics import Topic
from services.streaming.settings import KafkaSettings
from tests.integration.sla_watcher.harness import (
    GRACE_MS,
    Feed,
    TopicReader,
    Watcher,
    decode_all,
    publish,
    sla_config_text,
    wait_for,
)
from tests.unit.sla_watcher.builders import make_assignment

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LEADS = 1_000
FIRST_TOUCH_MS = 4_000
NOTIFY_MS = 2_000
SPREAD_MS = 4_000


@pytest.fixture
def watcher(topics: KafkaSettings, tmp_path: Path) -> Iterator[Watcher]:
    publish(topics, sla_config_text("4s", notify_at=[0.5], after_reassignments=1))
    process = Watcher(topics, tmp_path)
    try:
        yield process
    finally:
        process.kill()


def test_sigkill_with_pending_timers_fires_every_due_step_exactly_once_and_none_early(
    topics: KafkaSettings, watcher: Watcher
) -> None:
    watcher.start()

    def owns_partitions() -> bool:
        time.sleep(0.2)
        return "assigned partitions" in watcher.log_text()

    wait_for(owns_partitions, 60, "the watcher to own its partitions")
    feed = Feed(topics)
    base = time.time_ns() // 1_000_000
    decided = {f"lead-{i:04d}": base + i * SPREAD_MS // LEADS for i in range(LEADS)}
    for lead, at_ms in decided.items():
        feed.assign(make_assignment(lead, "ann", decided_at_ms=at_ms))
    feed.flush()

    time.sleep(max(0.0, (base + 6_000) / 1000 - time.time()))  # notifies done, deadlines half
    watcher.kill()
    killed_at = time.time_ns() // 1_000_000
    time.sleep(max(0.0, (base + 9_000) / 1000 - time.time()))  # every deadline passes while down
    watcher.start()
    restarted_at = time.time_ns() // 1_000_000

    escalations_in = TopicReader(topics, Topic.ESCALATIONS, "escalations")
    requests_in = TopicReader(topics, Topic.ROUTING_REQUESTS, "requests")
    escalations: list[Escalation] = []
    requests: list[RoutingRequest] = []

    def collect() -> bool:
        escalations.extend(decode_all(escalations_in.poll(), Escalation))
        requests.extend(decode_all(requests_in.poll(0), RoutingRequest))
        return len(escalations) >= 2 * LEADS and len(requests) >= LEADS

    try:
        wait_for(collect, 60, f"{2 * LEADS} escalations and {LEADS} reassign requests")
        settle = time.monotonic() + 3  # a repeat written after the last expected one shows here
        while time.monotonic() < settle:
            collect()
    finally:
        escalations_in.close()
        requests_in.close()

    ids = Counter(e.escalation_id for e in escalations)
    repeated = {i: n for i, n in ids.items() if n > 1}
    assert not repeated, f"{len(repeated)} escalations written more than once"
    expected = {f"{lead}#a1:{step}" for lead in decided for step in ("notify-1", "reassign")}
    assert set(ids) == expected
    for escalation in escalations:
        offset = NOTIFY_MS if escalation.step is EscalationStep.NOTIFY else FIRST_TOUCH_MS
        assert escalation.due_at_ms == decided[escalation.lead_id] + offset
        assert escalation.fired_at_ms >= escalation.due_at_ms + GRACE_MS, "fired before due"
    assert sorted(r.request_id for r in requests) == sorted(
        f"{lead}#a1:reassign" for lead in decided
    )

    before = [e for e in escalations if e.fired_at_ms < killed_at]
    after = [e for e in escalations if e.fired_at_ms >= restarted_at]
    assert before and after, "the kill did not land while timers were firing"
    assert len(before) + len(after) == len(escalations), "a killed instance's write survived"
    due_while_down = {
        f"{lead}#a1:reassign"
        for lead, at_ms in decided.items()
        if killed_at < at_ms + FIRST_TOUCH_MS + GRACE_MS < restarted_at
    }
    assert due_while_down, "no deadline fell due while the watcher was down"
    assert due_while_down <= {e.escalation_id for e in after}
