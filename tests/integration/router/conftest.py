"""Router processes for the router's integration tests, killed at the end whatever happened."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.streaming.settings import KafkaSettings
from tests.integration.router.router_process import RouterProcess


@pytest.fixture
def router(topics: KafkaSettings, tmp_path: Path) -> Iterator[RouterProcess]:
    """The assign stage alone, fed routing requests by the test."""
    process = RouterProcess(topics, tmp_path)
    try:
        yield process
    finally:
        process.kill()


@pytest.fixture
def fused_router(topics: KafkaSettings, tmp_path: Path) -> Iterator[RouterProcess]:
    """Both stages on one loop (`--stage all`, the default deployment), fed leads."""
    process = RouterProcess(topics, tmp_path, stage="all")
    try:
        yield process
    finally:
        process.kill()
