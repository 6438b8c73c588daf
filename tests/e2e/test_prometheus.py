"""A real Prometheus scrapes all three services during a short demo run; its HTTP API has the
speed-to-lead, assignment and SLA series, and `promtool check metrics` passes on each service.

Runs on the test broker under a unique topic prefix, with free ports for everything.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.demo.feed import DemoFeed, FeedSettings
from services.demo.feed_plan import TouchPlan
from services.demo.front_doors import FrontDoorClient, FrontDoors
from services.demo.ports import Ports
from services.demo.stack import Stack
from services.streaming.settings import KafkaSettings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO / "deploy" / "config" / "routing.demo.yaml"
JOBS = {
    "ingest": "leadrouter-ingest",
    "router": "leadrouter-router",
    "sla": "leadrouter-sla-watcher",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: `make test` installs it (Debian's prometheus)")
    return found


@pytest.fixture
def stack(topics: KafkaSettings, tmp_path: Path) -> Iterator[Stack]:
    ports = Ports(
        kafka=0,
        http=free_port(),
        smtp=free_port(),
        ingest_metrics=free_port(),
        router_metrics=free_port(),
        sla_metrics=free_port(),
        notifier_metrics=free_port(),
        mail_sink=free_port(),
        console=free_port(),
        console_metrics=free_port(),
    )
    running = Stack(
        ports,
        config_path=DEMO_CONFIG,
        external_bootstrap=topics.bootstrap_servers,
        extra_env={
            "KAFKA_TOPIC_PREFIX": topics.topic_prefix,
            "INGEST_SMTP_RECIPIENTS": "leads@demo.leadrouter.example",
        },
        run_dir=tmp_path / "run",
    )
    try:
        running.start(say=lambda _line: None, timeout_s=90)
        yield running
    finally:
        running.stop()


def prometheus_config(ports: Ports) -> str:
    targets = {
        JOBS["ingest"]: ports.ingest_metrics,
        JOBS["router"]: ports.router_metrics,
        JOBS["sla"]: ports.sla_metrics,
    }
    jobs = "".join(
        f"  - job_name: {job}\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        for job, port in targets.items()
    )
    return f"global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n{jobs}"


def query(client: httpx.Client, base: str, promql: str) -> float | None:
    """The first sample's value, or None when the result is empty."""
    response = client.get(f"{base}/api/v1/query", params={"query": promql})
    response.raise_for_status()  # starting up, Prometheus answers 503 in plain text
    answer = response.json()
    assert answer["status"] == "success", answer
    result = answer["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def test_prometheus_scrapes_speed_to_lead_assignment_and_sla_series(
    stack: Stack, tmp_path: Path
) -> None:
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(prometheus_config(stack.ports))
    with (tmp_path / "prometheus.log").open("wb") as log:
        prometheus = subprocess.Popen(
            [
                binary("prometheus"),
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    stop = threading.Event()
    http = httpx.Client(timeout=5.0)
    feed = DemoFeed(
        stack.settings(),
        FrontDoorClient(
            FrontDoors(
                http_base=f"http://127.0.0.1:{stack.ports.http}", smtp_port=stack.ports.smtp
            ),
            http,
        ),
        reps=["anna", "lea"],
        feed=FeedSettings(
            rate_per_s=3.0,
            touch=TouchPlan(touch_fraction=0.7, min_delay_ms=200, max_delay_ms=1500),
            presence_every_s=5.0,
            seed=11,
        ),
    )
    feeder = threading.Thread(target=feed.run, args=(stop,), daemon=True)
    base = f"http://127.0.0.1:{port}"
    wanted = {
        "speed to lead": "sum(leadrouter_speed_to_lead_seconds_count)",
        "assignments": 'sum(leadrouter_assignments_total{outcome="assigned"})',
        "time to first touch": "sum(leadrouter_sla_time_to_first_touch_seconds_count)",
        "open SLA timers": "sum(leadrouter_sla_open_timers)",
        "services up": 'count(up{job=~"leadrouter-.*"} == 1)',
    }
    seen: dict[str, float | None] = {}
    try:
        feeder.start()
        with httpx.Client(timeout=5.0) as client:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                try:
                    seen = {name: query(client, base, q) for name, q in wanted.items()}
                except httpx.HTTPError:
                    seen = {}
                counts = [v for k, v in seen.items() if k != "open SLA timers"]
                if seen and all(v for v in counts) and seen["services up"] == 3:
                    break
                time.sleep(1.0)
        assert seen.get("services up") == 3, seen
        assert (seen.get("speed to lead") or 0) > 0, seen
        assert (seen.get("assignments") or 0) > 0, seen
        assert (seen.get("time to first touch") or 0) > 0, seen
        assert seen.get("open SLA timers") is not None, seen
        assert feed.stats["accepted"] > 0 and feed.stats["refused"] == 0, feed.stats

        for name, metrics_port in (
            ("ingest", stack.ports.ingest_metrics),
            ("router", stack.ports.router_metrics),
            ("sla_watcher", stack.ports.sla_metrics),
            ("notifier", stack.ports.notifier_metrics),
        ):
            text = http.get(f"http://127.0.0.1:{metrics_port}/metrics").text
            lint = subprocess.run(
                [binary("promtool"), "check", "metrics"],
                input=text, capture_output=True, text=True, check=False,
            )  # fmt: skip
            assert lint.returncode == 0, f"{name}: {lint.stdout}{lint.stderr}"
    finally:
        stop.set()
        feeder.join(timeout=15)
        http.close()
        prometheus.terminate()
        try:
            prometheus.wait(timeout=15)
        except subprocess.TimeoutExpired:
            prometheus.kill()
            prometheus.wait()
