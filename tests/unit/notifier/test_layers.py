"""The notifier's domain modules stay pure all the way down their imports."""

from __future__ import annotations

import pytest

from tests.unit.layers import impure_imports

PURE = [
    "services.leads.notification_config",
    "services.notifier.deliveries",
    "services.notifier.messages",
    "services.notifier.plan",
]


@pytest.mark.parametrize("module", PURE)
def test_domain_module_reaches_no_io(module: str) -> None:
    assert impure_imports(module) == []
