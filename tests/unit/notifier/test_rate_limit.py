"""A channel's rate limit spaces its sends evenly, shared by its workers."""

from __future__ import annotations

import pytest

from services.notifier.sender import RateLimit


def test_sends_at_once_wait_their_turn_and_an_idle_channel_sends_at_once() -> None:
    limit = RateLimit(per_second=4)
    assert [limit.reserve(100.0) for _ in range(3)] == [0.0, 0.25, 0.5]
    assert limit.reserve(100.5) == pytest.approx(0.25)  # the fourth slot is at 100.75
    assert limit.reserve(200.0) == 0.0


def test_no_limit_never_waits() -> None:
    limit = RateLimit(per_second=0)
    assert {limit.reserve(5.0) for _ in range(100)} == {0.0}
