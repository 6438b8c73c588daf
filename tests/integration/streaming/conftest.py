"""The `backend` fixture: each paired test runs on the in-memory twin and on the real broker."""

from __future__ import annotations

import pytest

from tests.integration.streaming.backends import Backend, real_backend, twin_backend


@pytest.fixture(params=["twin", "broker"])
def backend(request: pytest.FixtureRequest, unique: str) -> Backend:
    if request.param == "twin":
        return twin_backend(unique)
    return real_backend(request.getfixturevalue("kafka_settings"))
