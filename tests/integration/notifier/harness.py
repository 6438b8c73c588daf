"""What the notifier's broker tests share: the real notifier process, a webhook receiver that
verifies signatures and counts deliveries by id, a config naming it, and a feed of assignments."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from standardwebhooks.webhooks import Webhook

from services.streaming.settings import KafkaSettings
from tests.integration.notifier.providers import ProviderServer, Reply, Seen, text

REPO_ROOT = Path(__file__).resolve().parents[3]
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class Receiver:
    """A CRM's webhook endpoint: verifies each delivery with the reference verifier, counts
    deliveries per webhook-id, and answers what `status` says (200 unless told otherwise)."""

    def __init__(self) -> None:
        self.status = 200
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.server = ProviderServer(self._answer)

    def _answer(self, seen: Seen) -> Reply:
        Webhook(SECRET).verify(seen.body, seen.headers)
        if self.status != 200:
            return text(self.status, "unavailable", retry_after="0")
        with self.lock:
            self.counts[seen.headers["webhook-id"]] += 1
        return text(200, "ok")

    @property
    def unique(self) -> int:
        with self.lock:
            return len(self.counts)

    @property
    def duplicates(self) -> int:
        with self.lock:
            return sum(n - 1 for n in self.counts.values())


def config_text(notifications: dict[str, Any]) -> str:
    doc = {
        "reps": [{"id": r, "name": r.title(), "email": f"{r}@example.com"} for r in ("ann", "bob")],
        "pools": [{"id": "inside", "members": [{"rep": "ann"}, {"rep": "bob"}]}],
        "default_pool": "inside",
        "notifications": notifications,
    }
    return yaml.safe_dump(doc, sort_keys=False)


class NotifierProcess:
    """The real `python -m services.notifier` in instance slot 0."""

    def __init__(self, settings: KafkaSettings, log_dir: Path, **env: str) -> None:
        self.settings, self.log_dir, self.extra = settings, log_dir, env
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": self.settings.bootstrap_servers,
            "KAFKA_TOPIC_PREFIX": self.settings.topic_prefix,
            "NOTIFIER_WEBHOOK_SECRET": SECRET,
            "NOTIFIER_TICK_INTERVAL_MS": "50",
            **self.extra,
        }
        args = [sys.executable, "-m", "services.notifier", "--instance", "0"]
        if "NOTIFIER_METRICS_PORT" not in self.extra:
            args.append("--no-metrics")
        with (self.log_dir / f"notifier-{self.starts}.log").open("wb") as log:
            self.process = subprocess.Popen(
                args, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
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

    def log_text(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.log_dir.glob("notifier-*.log")))


def wait_until(
    condition: Callable[[], bool],
    timeout_s: float,
    what: str,
    process: NotifierProcess | None = None,
) -> None:
    """Poll every 50 ms; fail naming `what` (with the notifier's log) when time runs out."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            log = "" if process is None else "\n" + process.log_text()[-3000:]
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}{log}")
        time.sleep(0.05)
