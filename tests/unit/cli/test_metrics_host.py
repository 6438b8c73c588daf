"""Metrics and health are served on `METRICS_HOST`, and nowhere else."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.error import URLError

import pytest
from prometheus_client import CollectorRegistry

from services.streaming.errors import FatalError
from services.streaming.metrics import serve_metrics

# All of 127.0.0.0/8 is this machine's loopback: a second address tells "bound to the address
# asked for" apart from "bound to every interface", with no network needed.
ASKED = "127.0.0.2"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status) == 200
    except (URLError, OSError):
        return False


def test_ingest_serves_health_on_metrics_host_only() -> None:
    metrics_port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",  # the HTTP door starts without a broker
        "METRICS_HOST": ASKED,
        "INGEST_METRICS_PORT": str(metrics_port),
        "INGEST_HTTP_HOST": "127.0.0.1",
        "INGEST_HTTP_PORT": str(free_port()),
    }
    command = [sys.executable, "-m", "services.ingest", "--no-smtp", "--no-raw"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not answers(f"http://{ASKED}:{metrics_port}/healthz"):
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "ingest never served /healthz on METRICS_HOST"
            time.sleep(0.2)
        assert not answers(f"http://127.0.0.1:{metrics_port}/healthz")
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


def test_an_address_that_cannot_be_bound_is_a_fatal_error_naming_it() -> None:
    # 192.0.2.1 (TEST-NET-1, RFC 5737) is never an address of this machine.
    with pytest.raises(FatalError, match=r"cannot serve metrics on 192\.0\.2\.1:\d+"):
        serve_metrics(CollectorRegistry(), free_port(), "192.0.2.1")
