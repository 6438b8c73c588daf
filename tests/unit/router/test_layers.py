"""The router's domain, triage and assign alike, stays pure all the way down its imports. Only
the handlers (`triage.py`, `assign.py`), replay and the wiring touch Kafka, time and metrics."""

from __future__ import annotations

import ast

import pytest

from tests.unit.layers import impure_imports, source

TRIAGE = [
    "services.leads.routing_config",
    "services.leads.config_diff",
    "services.leads.config_warnings",
    "services.router.rules",
    "services.router.scoring",
    "services.router.triage_decision",
    "services.router.identity_state",
    "services.router.ownership",
]
ASSIGN = [
    "services.router.strategies",
    "services.router.fairness",
    "services.router.tie_break",
    "services.router.rotation",
    "services.router.eligibility",
    "services.router.presence",
    "services.router.decisions",
]


@pytest.mark.parametrize("module", TRIAGE + ASSIGN)
def test_domain_module_reaches_no_io(module: str) -> None:
    assert impure_imports(module) == []


@pytest.mark.parametrize("module", TRIAGE + ASSIGN)
def test_no_decision_code_uses_the_salted_builtin_hash(module: str) -> None:
    calls = [
        n for n in ast.walk(source(module))
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "hash"
    ]  # fmt: skip
    assert not calls, f"{module} calls hash(), which is salted per process"
