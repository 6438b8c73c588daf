"""The watcher's domain modules stay pure: no Kafka, no clock, no environment, no randomness."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[3] / "services" / "sla_watcher"
PURE = [
    "deadlines", "timer_state", "effects", "steps", "transitions", "activity_transitions",
    "policies",
]  # fmt: skip
FORBIDDEN = {"confluent_kafka", "time", "os", "random", "uuid", "socket", "prometheus_client"}
FORBIDDEN_PREFIXES = ("services.streaming",)


def imported(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", PURE)
def test_domain_module_imports_no_io(module: str) -> None:
    names = imported(module)
    assert not {n.split(".")[0] for n in names} & FORBIDDEN, names
    assert not [n for n in names if n.startswith(FORBIDDEN_PREFIXES)], names
