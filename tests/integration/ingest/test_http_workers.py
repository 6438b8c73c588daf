"""INGEST_HTTP_WORKERS=2 on the real broker: two processes share the HTTP port, each lead
lands once whichever took it, each worker counts its own leads on its own metrics port, and
a worker that dies takes the service down with it."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest

from services.streaming.admin import create_topics
from services.streaming.settings import KafkaSettings
from tests.integration.ingest.running import read_inbound, running_ingest, wait_until_ready

pytestmark = [pytest.mark.integration, pytest.mark.slow]

POSTS = 40
ACCEPTED = re.compile(r'^leadrouter_ingest_accepted_total\{[^}]*channel="chat"[^}]*\} (\S+)$', re.M)


def free_port_pair() -> int:
    """A port p with p + 1 free too (worker 1 serves its metrics there), below the ephemeral
    range so that no outgoing connection takes either before the service binds them."""
    rng = random.Random()
    for _ in range(100):
        port = rng.randrange(20000, 32000)
        with socket.socket() as first, socket.socket() as second:
            try:
                first.bind(("0.0.0.0", port))
                second.bind(("0.0.0.0", port + 1))
            except OSError:
                continue
            return port
    raise RuntimeError("no two adjacent free ports")


def accepted(metrics_url: str) -> int:
    found = ACCEPTED.search(httpx.get(f"{metrics_url}/metrics", timeout=5).text)
    return int(float(found.group(1))) if found else 0


def children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_two_workers_share_the_port_and_every_lead_lands_once(kafka_bootstrap: str) -> None:
    kafka = KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=f"w{time.time_ns()}.")
    create_topics(kafka, partitions=4)
    metrics_port = free_port_pair()
    run = f"run{time.time_ns()}"
    with running_ingest(
        kafka, "--no-smtp", "--no-raw", http_workers="2", metrics_port=str(metrics_port)
    ) as ingest:
        wait_until_ready(ingest, 60)
        for number in range(POSTS):  # a new connection each: the kernel picks a worker per one
            body = {"conversation_id": f"{run}-{number}", "visitor": {"email": "a@example.com"}}
            answer = httpx.post(f"{ingest.http}/v1/leads/chat", content=json.dumps(body),
                                headers={"content-type": "application/json"})  # fmt: skip
            assert answer.status_code == 202, answer.text
        counts = [accepted(f"http://127.0.0.1:{metrics_port + slot}") for slot in (0, 1)]
        assert sum(counts) == POSTS and min(counts) > 0, counts
        (worker,) = children(ingest.process.pid)
        written = read_inbound(kafka, POSTS, lambda w: w.lead.source_message_id.startswith(run))
        ids = sorted(w.lead.source_message_id for w in written)
        assert ids == sorted(f"{run}-{number}" for number in range(POSTS))
        os.kill(worker, signal.SIGKILL)
        assert ingest.process.wait(20) == 1  # a dead worker stops the service, like a dead door
