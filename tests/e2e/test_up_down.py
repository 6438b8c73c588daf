"""`leadrouter up` leaves the services running for your own channels; `leadrouter down` stops
every process `up` started, from another shell (here: another process)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from services.streaming.settings import KafkaSettings
from tests.e2e.processes import MARK, free_ports, marked_pids

pytestmark = [pytest.mark.e2e]


def ready_within(url: str, seconds: float) -> bool:
    """Whether `url` answers 200 before `seconds` pass (asked every 0.2 s)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=5).status_code == 200:
                return True
        time.sleep(0.2)
    return False


def test_up_serves_the_front_doors_and_down_stops_everything_it_started(
    topics: KafkaSettings, tmp_path: Path
) -> None:
    http, smtp, m1, m2, m3, m4, console, m5 = free_ports(8)
    mark = uuid.uuid4().hex
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("INGEST_", "LEADROUTER_", "CONSOLE_"))
        },
        MARK: mark,
        "KAFKA_BOOTSTRAP_SERVERS": topics.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": topics.topic_prefix,
        "INGEST_HTTP_PORT": str(http),
        "INGEST_SMTP_PORT": str(smtp),
        "INGEST_METRICS_PORT": str(m1),
        "ROUTER_METRICS_PORT": str(m2),
        "SLA_METRICS_PORT": str(m3),
        "NOTIFIER_METRICS_PORT": str(m4),
        "CONSOLE_PORT": str(console),
        "CONSOLE_METRICS_PORT": str(m5),
        "LEADROUTER_RUN_DIR": str(tmp_path / "run"),
    }

    def leadrouter(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "services.cli", *args],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    try:
        up = leadrouter("up")
        assert up.returncode == 0, up.stdout + up.stderr
        assert (tmp_path / "run" / "stack.json").exists()
        # ingest, router, sla_watcher, notifier, console; the broker is not ours
        assert len(marked_pids(mark)) == 5
        assert httpx.get(f"http://127.0.0.1:{http}/readyz", timeout=5).status_code == 200
        assert f"http://127.0.0.1:{console}/  (demo login: token lrc_" in up.stdout
        # `up` returns once the notifier serves metrics; ready means its partitions are
        # assigned and its deliveries restored, a moment later
        assert ready_within(f"http://127.0.0.1:{m4}/readyz", seconds=60)
        sent = leadrouter("lead", "send", "--channel", "form", "--country", "DE")
        assert sent.returncode == 0 and sent.stdout.startswith("accepted (202) form lead")
        again = leadrouter("up")
        assert again.returncode == 1 and "run `leadrouter down` first" in again.stderr

        down = leadrouter("down")

        assert down.returncode == 0, down.stderr
        assert down.stdout.startswith("stopped ingest, router, sla_watcher, notifier")
        assert marked_pids(mark) == []
        assert not (tmp_path / "run" / "stack.json").exists()
        assert leadrouter("down").stdout.startswith("nothing to stop")
    finally:
        for leftover in marked_pids(mark):
            os.kill(leftover, signal.SIGKILL)
