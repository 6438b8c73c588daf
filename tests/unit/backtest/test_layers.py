"""The backtest's core is pure: it runs the router's domain code and nothing of the edge.
Only `history.py` (the broker and files) and the CLI command do I/O."""

from __future__ import annotations

import pytest

from tests.unit.layers import impure_imports

PURE = [
    "services.backtest.pipeline",
    "services.backtest.backtest",
    "services.backtest.compare",
    "services.backtest.report",
    "services.backtest.report_html",
    "services.backtest.sla_projection",
]


@pytest.mark.parametrize("module", PURE)
def test_backtest_core_imports_nothing_impure(module: str) -> None:
    assert impure_imports(module) == []
