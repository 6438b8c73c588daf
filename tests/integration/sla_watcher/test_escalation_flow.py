"""On the real broker, second-scale SLAs: unanswered leads are reassigned to a different rep
each time and end with the manager; answered ones are left alone; closing frees the owner;
activity for an unknown lead is dead-lettered with the reason."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.leads.events import (
    ActivityType,
    DeadLetter,
    Escalation,
    EscalationStep,
    RequestKind,
    RoutingRequest,
)
from services.leads.topics import Topic
from services.streaming.settings import KafkaSettings
from tests.integration.sla_watcher.harness import (
    GRACE_MS,
    REPO_ROOT,
    Feed,
    TopicReader,
    Watcher,
    answer,
    decode_all,
    publish,
    sla_config_text,
    wait_for,
)
from tests.unit.sla_watcher.builders import make_activity, make_assignment

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MEMBERS = ["ann", "bob", "cy", "dan"]
FIRST_TOUCH_MS = 1_500
K = 2


@pytest.fixture
def watcher(topics: KafkaSettings, tmp_path: Path) -> Iterator[Watcher]:
    publish(topics, sla_config_text("1500ms", notify_at=[0.5], after_reassignments=K))
    process = Watcher(topics, tmp_path)
    process.start()
    try:
        yield process
    finally:
        process.kill()


def test_unanswered_leads_are_reassigned_then_escalated_and_answered_ones_are_not(
    topics: KafkaSettings, watcher: Watcher
) -> None:
    feed = Feed(topics)
    now = time.time_ns() // 1_000_000
    silent = [f"silent-{i}" for i in range(4)]
    answered = [f"answered-{i}" for i in range(4)]
    for lead in silent + answered:
        feed.assign(make_assignment(lead, "ann", decided_at_ms=now))
    for lead in answered:
        feed.act(make_activity(ActivityType.FIRST_TOUCH, "ann", lead_id=lead, occurred_at_ms=now))
    feed.flush()
    closing = [sys.executable, "-m", "services.cli", "activity", "answered-0", "closed_won"]
    cli = subprocess.run(closing, cwd=REPO_ROOT, env=watcher.env(), capture_output=True,
                         text=True, timeout=60, check=False)  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.startswith("published closed_won for lead answered-0")
    feed.act(make_activity(lead_id="never-assigned", occurred_at_ms=now))
    feed.flush()

    escalations_in = TopicReader(topics, Topic.ESCALATIONS, "escalations")
    requests_in = TopicReader(topics, Topic.ROUTING_REQUESTS, "requests")
    letters_in = TopicReader(topics, Topic.DEAD_LETTER, "letters")
    escalations: list[Escalation] = []
    requests: list[RoutingRequest] = []
    letters: list[DeadLetter] = []

    def pump() -> bool:
        """Play router/assign: answer every reassign request with a rep not tried before."""
        escalations.extend(decode_all(escalations_in.poll(), Escalation))
        letters.extend(decode_all(letters_in.poll(0), DeadLetter))
        for request in decode_all(requests_in.poll(0), RoutingRequest):
            requests.append(request)
            if request.kind is RequestKind.REASSIGN:
                feed.assign(answer(request, MEMBERS, time.time_ns() // 1_000_000))
        feed.flush()
        finals = {e.lead_id for e in escalations if e.step is EscalationStep.ESCALATE}
        return finals >= set(silent) and bool(letters)

    try:
        wait_for(pump, 60, "a manager escalation for every unanswered lead, and a dead letter")
        settle = time.monotonic() + 2  # anything extra (a repeat, a stray step) shows up now
        while time.monotonic() < settle:
            pump()
    finally:
        for reader in (escalations_in, requests_in, letters_in):
            reader.close()

    by_lead: dict[str, list[Escalation]] = defaultdict(list)
    for escalation in escalations:
        by_lead[escalation.lead_id].append(escalation)
    assert set(by_lead) == set(silent), watcher.log_text()[-3000:]
    for lead in silent:
        assert_reassigned_twice_then_escalated(by_lead[lead])

    reassigns = [r for r in requests if r.kind is RequestKind.REASSIGN]
    assert sorted(r.lead_id for r in reassigns) == sorted(silent * K)
    releases = [(r.lead_id, r.rep_id) for r in requests if r.kind is RequestKind.RELEASE]
    assert releases == [("answered-0", "ann")]
    assert [(d.reason, d.original_key) for d in letters] == [("unknown_lead", b"never-assigned")]


def assert_reassigned_twice_then_escalated(fired: list[Escalation]) -> None:
    """A reminder and a reassignment to a new rep twice, then a reminder and the manager."""
    assert [e.step for e in fired] == [
        EscalationStep.NOTIFY, EscalationStep.REASSIGN,
        EscalationStep.NOTIFY, EscalationStep.REASSIGN,
        EscalationStep.NOTIFY, EscalationStep.ESCALATE,
    ]  # fmt: skip
    owners = [e.rep_id for e in fired if e.step is not EscalationStep.NOTIFY]
    assert owners == ["ann", "bob", "cy"], "each reassignment went to a different rep"
    final = fired[-1]
    assert (final.target, final.previous_owners) == ("maria", ("ann", "bob"))
    for escalation in fired:
        assert escalation.fired_at_ms >= escalation.due_at_ms + GRACE_MS, "fired early"
    assert len({e.escalation_id for e in fired}) == len(fired)
