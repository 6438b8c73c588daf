"""The console outlives its broker: records written after a broker restart reach the
projection, and those from before are neither lost nor counted twice."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.console.settings import Role
from services.streaming.admin import create_topics
from services.streaming.local_broker import LocalBroker, free_port_pair
from services.streaming.settings import KafkaSettings
from tests.integration.console.produce import produce
from tests.integration.console.running import TOKENS
from tests.integration.console.stack import Processes
from tests.unit.console.projection_builders import day_of_leads

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def api(console: str, path: str) -> dict[str, Any]:
    viewer = {"Authorization": f"Bearer {TOKENS[Role.VIEWER]}"}
    answer = httpx.get(f"{console}/api/v1/{path}", timeout=10, headers=viewer)
    answer.raise_for_status()
    return dict(answer.json())


def lead_ids(console: str) -> list[str]:
    return sorted(lead["lead_id"] for lead in api(console, "leads")["leads"])


def wait_for_leads(processes: Processes, count: int, timeout_s: float = 60) -> list[str]:
    deadline = time.monotonic() + timeout_s
    found: list[str] = []
    while time.monotonic() < deadline and len(found) < count:
        assert processes.running["console"].poll() is None, processes.log("console")
        found = lead_ids(processes.console_url)
        time.sleep(0.3)
    return found


def test_the_console_survives_a_broker_restart_and_catches_up(tmp_path: Path) -> None:
    broker = LocalBroker(port=free_port_pair(), run_dir=tmp_path / "kafka")
    kafka = KafkaSettings(bootstrap_servers=broker.start(), topic_prefix="restart.")
    processes = Processes(kafka, tmp_path)
    try:
        create_topics(kafka, partitions=2)
        processes.start("console", "services.console")
        processes.wait_ready("console")
        produce(kafka, day_of_leads(count=3).items)
        assert wait_for_leads(processes, 3) == ["lead-0", "lead-1", "lead-2"]

        broker.stop()
        broker.start()
        produce(kafka, day_of_leads(count=3, first=3).items)

        assert wait_for_leads(processes, 6) == [f"lead-{n}" for n in range(6)]
        timeline = api(processes.console_url, "leads/lead-0")
        assert len(timeline["assignments"]) == 1 and len(timeline["requests"]) == 1
    finally:
        processes.stop()
        broker.stop()
