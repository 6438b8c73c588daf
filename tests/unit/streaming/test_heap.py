"""Tenure: what survives is frozen out of the collector's way, garbage never is, and a cycle
that becomes garbage after it was frozen is collected at the next full settle."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from services.streaming.heap import Tenure, settled


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> tuple[Node, weakref.ref[Node]]:
    """Two nodes referring to each other: only the cyclic collector frees them."""
    a, b = Node(), Node()
    a.other, b.other = b, a
    return a, weakref.ref(a)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def quiet_collector() -> Iterator[None]:
    """Only `settle` collects during a test: no automatic collection can hide what it does."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.enable()
        gc.collect()


def test_garbage_is_collected_before_what_survives_is_frozen() -> None:
    node, alive = cycle()
    del node
    Tenure(monotonic=Clock()).settle()
    assert alive() is None
    assert gc.get_freeze_count() > 0


def test_a_frozen_cycle_dropped_later_is_collected_at_the_next_full_settle() -> None:
    clock = Clock()
    tenure = Tenure(every_s=1.0, full_every_s=60.0, monotonic=clock)
    node, alive = cycle()
    tenure.settle()
    del node
    gc.collect()
    assert alive() is not None  # frozen: an ordinary collection no longer looks at it
    clock.now += 30
    tenure.settle()
    assert alive() is not None  # a young settle leaves the frozen alone
    clock.now += 30
    tenure.settle()
    assert alive() is None


def test_settles_at_most_once_per_interval() -> None:
    clock = Clock()
    tenure = Tenure(every_s=1.0, monotonic=clock)
    tenure.settle()
    frozen = gc.get_freeze_count()
    kept = [Node() for _ in range(100)]
    clock.now += 0.5
    tenure.settle()
    assert gc.get_freeze_count() == frozen
    clock.now += 0.5
    tenure.settle()
    assert gc.get_freeze_count() >= frozen + len(kept)


def test_settled_hands_every_item_on_in_order() -> None:
    assert list(settled(range(5), Tenure(monotonic=Clock()))) == [0, 1, 2, 3, 4]
