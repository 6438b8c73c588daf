"""Ingest, router and console as processes on a test's topics, each started the way
`leadrouter up` starts it, and stopped (SIGTERM, then SIGKILL) when the test ends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from services.console.settings import Role
from services.console.tokens import token_hash
from services.streaming.settings import KafkaSettings
from tests.e2e.processes import free_ports
from tests.integration.console.running import NAMES, TOKENS

REPO = Path(__file__).resolve().parents[3]


class Processes:
    def __init__(self, kafka: KafkaSettings, log_dir: Path) -> None:
        self.kafka, self.log_dir = kafka, log_dir
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        http, console, console_metrics = free_ports(3)
        self.ingest_url = f"http://127.0.0.1:{http}"
        self.console_url = f"http://127.0.0.1:{console}"
        self.env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
            "KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
            "INGEST_HTTP_PORT": str(http),
            "ROUTER_SESSION_TIMEOUT_MS": "6000",
            "CONSOLE_PORT": str(console),
            "CONSOLE_METRICS_PORT": str(console_metrics),
            "CONSOLE_DB": str(log_dir / "console.sqlite3"),
            "CONSOLE_TOKENS": json.dumps(
                [{"name": NAMES[r], "role": r.value, "sha256": token_hash(TOKENS[r])} for r in Role]
            ),
        }
        self.ready = {
            "ingest": f"{self.ingest_url}/readyz",
            "console": f"http://127.0.0.1:{console_metrics}/readyz",
        }

    def start(self, name: str, *args: str) -> None:
        with (self.log_dir / f"{name}.log").open("wb") as log:
            self.running[name] = subprocess.Popen(
                [sys.executable, "-m", *args], cwd=REPO, env=self.env,
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def wait_ready(self, name: str, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.running[name].poll() is not None:
                raise RuntimeError(f"{name} exited: {self.log(name)}")
            try:
                if httpx.get(self.ready[name], timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{name} not ready within {timeout_s} s: {self.log(name)}")

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
