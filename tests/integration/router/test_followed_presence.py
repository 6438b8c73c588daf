"""The assign processor's presence on a real broker: one position per batch, moved by a refresh."""

from __future__ import annotations

import time

import pytest

from services.leads.events import PresenceStatus, RepPresence
from services.router.app import FollowedPresence, presence_table
from services.streaming.settings import KafkaSettings
from tests.integration.router.router_io import publish_presence

pytestmark = pytest.mark.integration

T0 = 1_763_978_400_000


def change(status: PresenceStatus, at_ms: int) -> RepPresence:
    return RepPresence(rep_id="ann", status=status, changed_at_ms=at_ms)


def test_a_record_counts_only_once_a_refresh_read_it_and_the_position_says_so(
    topics: KafkaSettings,
) -> None:
    publish_presence(topics, [change(PresenceStatus.AWAY, T0 - 10)])
    followed = FollowedPresence(presence_table(topics))
    followed.table.load()
    try:
        loaded = followed.current()
        assert loaded.position == (1,)
        assert loaded.status_at("ann", T0)[0] is PresenceStatus.AWAY

        publish_presence(topics, [change(PresenceStatus.OFFLINE, T0 - 5)])  # stamped earlier
        assert followed.current() is loaded  # written, not read: nothing moved
        assert followed.current().status_at("ann", T0)[0] is PresenceStatus.AWAY

        deadline = time.monotonic() + 10
        while followed.table.refresh() == 0:
            assert time.monotonic() < deadline, "the second record never arrived"
            time.sleep(0.05)
        moved = followed.current()
        assert moved is not loaded and moved.position == (2,)
        assert moved.status_at("ann", T0)[0] is PresenceStatus.OFFLINE
    finally:
        followed.table.close()
