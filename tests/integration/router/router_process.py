"""A router process in its instance slot, started with `sys.executable -m services.router`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from services.streaming.settings import KafkaSettings

REPO_ROOT = Path(__file__).resolve().parents[3]


class RouterProcess:
    def __init__(
        self,
        settings: KafkaSettings,
        log_dir: Path,
        *,
        stage: str = "assign",
        metrics_port: int | None = None,
    ) -> None:
        self.settings, self.log_dir, self.stage = settings, log_dir, stage
        self.metrics_port = metrics_port
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": self.settings.bootstrap_servers,
            "KAFKA_TOPIC_PREFIX": self.settings.topic_prefix,
            "ROUTER_SESSION_TIMEOUT_MS": "6000",
            "ROUTER_METRICS_PORT": str(self.metrics_port or 0),
        }
        metrics = [] if self.metrics_port else ["--no-metrics"]
        with (self.log_dir / f"router-{self.starts}.log").open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "services.router",
                    "--instance",
                    "0",
                    "--stage",
                    self.stage,
                    *metrics,
                ],
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-3000:] for p in sorted(self.log_dir.glob("router-*.log"))
        )


def cli(settings: KafkaSettings, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `leadrouter ARGS` against `settings`' broker and topic prefix."""
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": settings.topic_prefix,
    }
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
