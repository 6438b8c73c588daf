"""The assign stage's domain stays pure all the way down its imports: no Kafka, no clock, no
environment, no randomness, no metrics, nothing from the streaming edge. Only the handler
(`assign.py`), replay and the wiring touch those."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PURE = [
    "services.router.strategies",
    "services.router.fairness",
    "services.router.tie_break",
    "services.router.rotation",
    "services.router.eligibility",
    "services.router.presence",
    "services.router.decisions",
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
    seen: dict[str, set[str]] = {}
    todo = [module]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen[current] = imports_of(current)
            todo += [n for n in seen[current] if n.startswith("services.") and n not in seen]
    return seen


@pytest.mark.parametrize("module", PURE)
def test_assign_domain_module_reaches_no_io(module: str) -> None:
    for importer, names in reachable(module).items():
        roots = {n.split(".")[0] for n in names}
        assert not roots & FORBIDDEN, f"{importer} imports {roots & FORBIDDEN}"
        edge = [n for n in names if n.startswith(FORBIDDEN_PREFIXES)]
        assert not edge, f"{importer} imports {edge}"


def test_no_decision_code_uses_the_salted_builtin_hash() -> None:
    for module in PURE:
        tree = ast.parse((ROOT / (module.replace(".", "/") + ".py")).read_text())
        calls = [
            n for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "hash"
        ]  # fmt: skip
        assert not calls, f"{module} calls hash(), which is salted per process"
