"""The candidate run takes the baseline's routing only where it would have decided the same:
a shared backtest's comparison is the one of deciding every lead twice, whatever changes."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.backtest.backtest import Outcome, backtest
from services.backtest.sharing import Apart, apart
from services.leads.routing_config import VersionedConfig, parse_routing_config
from tests.unit.backtest.history_builders import History
from tests.unit.router.decision_digest import config_document

Change = Callable[[dict[str, Any]], None]


def _pool(doc: dict[str, Any], pool_id: str) -> dict[str, Any]:
    return next(p for p in doc["pools"] if p["id"] == pool_id)


def _weights(doc: dict[str, Any]) -> None:
    for member in _pool(doc, "wt")["members"]:
        member["weight"] = 1


def _strategy(doc: dict[str, Any]) -> None:
    _pool(doc, "rr")["strategy"] = "least_loaded"


def _fallback(doc: dict[str, Any]) -> None:
    _pool(doc, "ll")["fallback"] = "overflow"


def _rule(doc: dict[str, Any]) -> None:
    next(r for r in doc["rules"] if r["id"] == "gb")["pool"] = "ll"


def _members(doc: dict[str, Any]) -> None:
    _pool(doc, "ent")["members"].pop()


def _continuity(doc: dict[str, Any]) -> None:
    doc["continuity"]["dedup_window"] = "1h"


def _nothing(doc: dict[str, Any]) -> None:
    pass


CHANGES: dict[str, Change] = {
    "weights": _weights,
    "strategy": _strategy,
    "fallback": _fallback,
    "rule": _rule,
    "members": _members,
    "continuity": _continuity,
    "nothing": _nothing,
}


def _candidate(change: Change) -> VersionedConfig:
    doc = copy.deepcopy(config_document(2))
    change(doc)
    return VersionedConfig(0, "candidate", parse_routing_config(doc))


def _both_ways(history: History, candidate: VersionedConfig) -> tuple[Outcome, Outcome]:
    timeline = history.timeline()
    shared = backtest(history.leads, timeline, candidate, presence=history.presence)
    twice = backtest(history.leads, timeline, candidate, presence=history.presence, share=False)
    return shared, twice


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_a_shared_backtest_compares_exactly_as_deciding_every_lead_twice(name: str) -> None:
    history = History.generate(900, phones=True)
    shared, twice = _both_ways(history, _candidate(CHANGES[name]))
    assert shared.comparison == twice.comparison
    assert twice.shared == 0
    if name in ("members", "continuity"):
        assert shared.shared == 0  # triage reads what changed: nothing can be taken
    elif name == "nothing":
        # before the switch version 1 moves members, so nothing is shared and pools come
        # apart for good; from the switch on, leads of pools still together are taken
        assert shared.shared > 0
    else:
        assert 0 < shared.shared < len(history.leads)
        assert shared.comparison.moved  # the change moved leads, and they were decided twice


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), name=st.sampled_from(sorted(CHANGES)))
def test_sharing_never_changes_the_comparison(seed: int, name: str) -> None:
    history = History.generate(250, seed, phones=seed % 2 == 0)
    shared, twice = _both_ways(history, _candidate(CHANGES[name]))
    assert shared.comparison == twice.comparison


def test_apart_names_the_pools_a_candidate_changes_and_whether_rules_differ() -> None:
    in_force = parse_routing_config(config_document(2))

    def against(change: Change) -> Apart | None:
        return apart(in_force, _candidate(change).config)

    assert against(_nothing) == Apart(frozenset(), routes=False)
    assert against(_weights) == Apart(frozenset({"wt"}), routes=False)
    assert against(_fallback) == Apart(frozenset({"ll"}), routes=False)
    assert against(_rule) == Apart(frozenset(), routes=True)
    assert against(_members) is None
    assert against(_continuity) is None
    assert apart(parse_routing_config(config_document(1)), in_force) is None  # members moved
