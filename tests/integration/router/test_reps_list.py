"""`leadrouter reps list` on the real broker: reps' presence, and paused pools apart from reps."""

from __future__ import annotations

import pytest

from services.leads.events import PresenceStatus, RepPresence
from services.router.presence import pool_key
from services.streaming.settings import KafkaSettings
from tests.integration.router.router_io import publish_presence
from tests.integration.router.router_process import cli

pytestmark = pytest.mark.integration

T = 1_795_413_600_000  # 2026-11-23T06:00:00Z


def test_reps_list_shows_reps_and_names_paused_pools_as_pools(topics: KafkaSettings) -> None:
    publish_presence(
        topics,
        [
            RepPresence(rep_id="dan", status=PresenceStatus.OFFLINE, changed_at_ms=T),
            RepPresence(rep_id=pool_key("dach"), status=PresenceStatus.AWAY, changed_at_ms=T),
            RepPresence(rep_id=pool_key("nordics"), status=PresenceStatus.AWAY, changed_at_ms=T),
            RepPresence(
                rep_id=pool_key("nordics"), status=PresenceStatus.AVAILABLE, changed_at_ms=T + 1
            ),
        ],
    )
    listed = cli(topics, "reps", "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:2] == ["dan", "offline"]
    assert [line.split()[:3] for line in lines[1:]] == [["pool", "dach", "paused"]]
    assert "@pool/" not in listed.stdout
