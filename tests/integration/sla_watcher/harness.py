"""What the watcher's integration tests share: a watcher process, a config, a stand-in router,
and readers of its output topics. Everything runs against the real broker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from confluent_kafka import Consumer, Producer

from services.leads.events import (
    Assignment,
    Escalation,
    LeadActivity,
    Outcome,
    RequestKind,
    RoutingRequest,
)
from services.leads.topics import Topic
from services.router.config_source import publish_config
from services.streaming.codec import AvroCodec
from services.streaming.errors import TransientError
from services.streaming.settings import KafkaSettings
from tests.unit.sla_watcher.builders import make_assignment

REPO_ROOT = Path(__file__).resolve().parents[3]
GRACE_MS = 300


def sla_config_text(first_touch: str, *, notify_at: list[float], after_reassignments: int) -> str:
    """Four always-working reps of Maria's in pool `inside`; the policy under test."""
    reps = ["ann", "bob", "cy", "dan"]
    doc: dict[str, Any] = {
        "managers": [{"id": "maria", "name": "Maria"}],
        "reps": [
            {"id": r, "name": r.title(), "email": f"{r}@example.com", "manager": "maria"}
            for r in reps
        ],
        "pools": [{"id": "inside", "members": [{"rep": r} for r in reps], "sla_policy": "quick"}],
        "default_pool": "inside",
        "sla_policies": [
            {
                "id": "quick",
                "first_touch": first_touch,
                "notify_at": notify_at,
                "escalate": {"after_reassignments": after_reassignments, "to": "manager"},
            }
        ],
    }
    return yaml.safe_dump(doc, sort_keys=False)


def publish(settings: KafkaSettings, text: str) -> None:
    """Publish a config version, retrying while just-created topics still elect leaders."""
    deadline = time.monotonic() + 20
    while True:
        try:
            now_ms = time.time_ns() // 1_000_000
            publish_config(settings, text, published_by="sla-test", now_ms=now_ms)
            return
        except TransientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class Watcher:
    """The real `python -m services.sla_watcher` in one instance slot."""

    def __init__(self, settings: KafkaSettings, log_dir: Path, slot: int = 0) -> None:
        self.settings, self.log_dir, self.slot = settings, log_dir, slot
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def env(self) -> dict[str, str]:
        """The environment of the watcher, and of CLI commands aimed at the same topics."""
        return {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": self.settings.bootstrap_servers,
            "KAFKA_TOPIC_PREFIX": self.settings.topic_prefix,
            "SLA_GRACE_MS": str(GRACE_MS),
            "SLA_TICK_INTERVAL_MS": "50",
        }

    def start(self) -> None:
        self.starts += 1
        env = self.env()
        with (self.log_dir / f"watcher{self.slot}-{self.starts}.log").open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.sla_watcher", "--instance", str(self.slot),
                 "--no-metrics"],
                cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

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
        return "\n".join(p.read_text() for p in sorted(self.log_dir.glob("watcher*.log")))


class Feed:
    """An idempotent producer writing assignments and activity as the router and a CRM would."""

    def __init__(self, settings: KafkaSettings) -> None:
        self.settings = settings
        self.producer = Producer(settings.producer())
        self.assignments = AvroCodec(Assignment)
        self.activity = AvroCodec(LeadActivity)

    def assign(self, assignment: Assignment) -> None:
        self._send(Topic.ASSIGNMENTS, assignment.lead_id, self.assignments.encode(assignment))

    def act(self, activity: LeadActivity) -> None:
        self._send(Topic.ACTIVITY, activity.lead_id, self.activity.encode(activity))

    def flush(self) -> None:
        assert self.producer.flush(30) == 0, "the broker did not acknowledge the test's records"

    def _send(self, topic: Topic, key: str, value: bytes) -> None:
        while True:
            try:
                self.producer.produce(self.settings.topic(topic), key=key, value=value)
                return
            except BufferError:
                self.producer.poll(0.05)


class TopicReader:
    """A read_committed reader of one topic from its beginning."""

    def __init__(self, settings: KafkaSettings, topic: Topic, group: str) -> None:
        self.consumer = Consumer(
            settings.consumer(settings.topic(group), **{"enable.partition.eof": False})
        )
        self.consumer.subscribe([settings.topic(topic)])

    def poll(self, timeout_s: float = 0.2) -> list[bytes]:
        values: list[bytes] = []
        for message in self.consumer.consume(500, timeout=timeout_s):
            assert message.error() is None, message.error()
            values.append(message.value() or b"")
        return values

    def close(self) -> None:
        self.consumer.close()


def decode_all(values: Iterable[bytes], model: type[Any]) -> list[Any]:
    codec = AvroCodec(model)
    return [codec.decode(v) for v in values]


def answer(request: RoutingRequest, members: list[str], now_ms: int) -> Assignment:
    """What router/assign would decide for a reassign request: the first member never tried."""
    free = [m for m in members if m not in request.previous_owners]
    rep = free[0] if free else None
    return make_assignment(
        request.lead_id,
        rep,
        attempt=request.attempt,
        assignment_id=f"{request.request_id}>a",
        decided_at_ms=now_ms,
        kind=RequestKind.REASSIGN,
        outcome=Outcome.ASSIGNED if rep else Outcome.UNASSIGNED,
        previous_owners=request.previous_owners,
        reason="first member not tried before" if rep else "every member already tried",
        pool_id="inside" if rep else "unassigned",
    )


def wait_for(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


__all__ = ["Escalation", "RoutingRequest"]
