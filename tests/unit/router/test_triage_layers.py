"""Config and triage domain modules stay pure, all the way down their own imports: no Kafka,
no clock, no environment, no randomness, no metrics, nothing from the streaming edge."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PURE = [
    "services.leads.routing_config",
    "services.leads.config_diff",
    "services.leads.config_warnings",
    "services.router.rules",
    "services.router.scoring",
    "services.router.triage_decision",
    "services.router.identity_state",
    "services.router.ownership",
]
FORBIDDEN = {"confluent_kafka", "time", "os", "random", "uuid", "socket", "prometheus_client"}
FORBIDDEN_PREFIXES = ("services.streaming", "services.cli")


def imports_of(module: str) -> set[str]:
    path = ROOT / (module.replace(".", "/") + ".py")
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def reachable(module: str) -> dict[str, set[str]]:
    """Every leadrouter module `module` imports, directly or not, with its own imports."""
    seen: dict[str, set[str]] = {}
    todo = [module]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen[current] = imports_of(current)
        todo += [n for n in seen[current] if n.startswith("services.") and n not in seen]
    return seen


@pytest.mark.parametrize("module", PURE)
def test_domain_module_reaches_no_io(module: str) -> None:
    for importer, names in reachable(module).items():
        roots = {n.split(".")[0] for n in names}
        assert not roots & FORBIDDEN, f"{importer} imports {roots & FORBIDDEN}"
        edge = [n for n in names if n.startswith(FORBIDDEN_PREFIXES)]
        assert not edge, f"{importer} imports {edge}"
