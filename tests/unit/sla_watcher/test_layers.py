"""The watcher's domain modules stay pure all the way down their imports: no Kafka, no clock,
no environment, no randomness."""

from __future__ import annotations

import pytest

from tests.unit.layers import impure_imports

PURE = [
    "services.sla_watcher.deadlines",
    "services.sla_watcher.timer_state",
    "services.sla_watcher.effects",
    "services.sla_watcher.steps",
    "services.sla_watcher.transitions",
    "services.sla_watcher.activity_transitions",
    "services.sla_watcher.policies",
]


@pytest.mark.parametrize("module", PURE)
def test_domain_module_reaches_no_io(module: str) -> None:
    assert impure_imports(module) == []
