"""Running leadrouter-ingest as a subprocess against a real broker, and reading what it wrote."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from confluent_kafka import Consumer

from services.ingest.inbound import lead_codec
from services.leads.events import Lead
from services.streaming.settings import KafkaSettings

REPO_ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Ingest:
    http: str
    smtp_port: int
    metrics: str
    process: subprocess.Popen[bytes]


@contextmanager
def running_ingest(
    kafka: KafkaSettings,
    *args: str,
    ready_timeout_s: float = 30,
    log_path: Path | None = None,
    **env: str,
) -> Iterator[Ingest]:
    """The service on free ports, `INGEST_*` from `env`; SIGTERMed (then killed) at the end.
    With `log_path`, its log (stdout and stderr) goes to that file instead of the test's."""
    http_port, smtp_port, metrics_port = free_port(), free_port(), free_port()
    environment = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
        "INGEST_HTTP_HOST": "127.0.0.1",
        "INGEST_HTTP_PORT": str(http_port),
        "INGEST_SMTP_HOST": "127.0.0.1",
        "INGEST_SMTP_PORT": str(smtp_port),
        "INGEST_METRICS_PORT": str(metrics_port),
        **{f"INGEST_{name.upper()}": value for name, value in env.items()},
    }
    log = None if log_path is None else log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "services.ingest", *args],
        cwd=REPO_ROOT, env=environment, stdout=log, stderr=log,
    )  # fmt: skip
    ingest = Ingest(
        f"http://127.0.0.1:{http_port}", smtp_port, f"http://127.0.0.1:{metrics_port}", process
    )
    try:
        wait_until_healthy(ingest, ready_timeout_s)
        yield ingest
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if log is not None:
            log.close()


def wait_until_healthy(ingest: Ingest, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ingest.process.poll() is not None:
            raise RuntimeError(f"ingest exited with {ingest.process.returncode}")
        try:
            if httpx.get(f"{ingest.http}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("ingest did not answer /healthz in time")


def wait_until_ready(ingest: Ingest, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if httpx.get(f"{ingest.http}/readyz", timeout=5).status_code == 200:
            return
        time.sleep(0.5)
    raise RuntimeError("ingest did not become ready in time")


@dataclass(frozen=True)
class Record:
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]


@dataclass(frozen=True)
class Written:
    key: bytes
    lead: Lead
    headers: dict[str, bytes]


def read_topic(
    kafka: KafkaSettings,
    topic: str,
    expected: int,
    where: Callable[[Record], bool] = lambda _: True,
    *,
    timeout_s: float = 30,
    settle_s: float = 1.5,
) -> list[Record]:
    """The committed records of `topic` that match `where`: waits for `expected` of them, then
    `settle_s` more, so a duplicate written after them would be seen too."""
    consumer = Consumer(kafka.consumer(f"read-{uuid.uuid4().hex}"))
    consumer.subscribe([kafka.topic(topic)])
    found: list[Record] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            for message in consumer.consume(100, timeout=0.5):
                if message.error() is None:
                    raw = message.headers() or []
                    pairs = raw.items() if isinstance(raw, dict) else raw
                    headers = {k: v for k, v in pairs if isinstance(v, bytes)}
                    record = Record(message.key(), message.value(), headers)
                    if where(record):
                        found.append(record)
            if len(found) >= expected:
                deadline = min(deadline, time.monotonic() + settle_s)
    finally:
        consumer.close()
    return found


def read_inbound(
    kafka: KafkaSettings,
    expected: int,
    where: Callable[[Written], bool] = lambda _: True,
    timeout_s: float = 30,
) -> list[Written]:
    def written(record: Record) -> Written:
        return Written(record.key or b"", lead_codec().decode(record.value or b""), record.headers)

    records = read_topic(
        kafka, "leads.inbound", expected, lambda r: where(written(r)), timeout_s=timeout_s
    )
    return [written(record) for record in records]
