"""The real ingest service (HTTP door only) as a subprocess, and the requests it is sent.

Requests are what each provider sends, built with the demo's provider-shaped payloads and
signed where the channel has a secret (as in production), rendered to bytes before timing.
"""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from bench.context import Run
from bench.http_load import render
from services.demo.payloads import (
    chat_body,
    email_message,
    form_body,
    form_fields,
    hub_signature,
    twilio_params,
    twilio_signature,
)
from services.demo.people import make_prospect
from services.streaming.settings import KafkaSettings

CHANNELS = ("form", "chat", "sms", "email")
CHAT_SECRET = "bench-chat-secret"
TWILIO_TOKEN = "bench-twilio-token"
SMS_TO = "+14155550100"
EMAIL_TO = "leads@bench.leadrouter.example"
QUIET_PORTS = (20000, 32000)
"""Below Linux's default ephemeral range (32768-60999), so no outgoing connection takes one."""


@dataclass(frozen=True, slots=True)
class Ingest:
    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def ingest_service(
    run: Run, settings: KafkaSettings, name: str, workers: int = 1
) -> Iterator[Ingest]:
    """Start `python -m services.ingest --no-smtp --no-raw` with `workers` HTTP processes and
    wait until it is ready: /readyz on the HTTP port (the broker answers) and on the metrics
    port (every worker listens)."""
    ingest = Ingest("127.0.0.1", free_port())
    metrics_port = free_port_run(workers)
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": settings.topic_prefix,
        "INGEST_HTTP_HOST": ingest.host,
        "INGEST_HTTP_PORT": str(ingest.port),
        "INGEST_METRICS_PORT": str(metrics_port),
        "INGEST_HTTP_WORKERS": str(workers),
        "INGEST_CHAT_SECRET": CHAT_SECRET,
        "INGEST_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "INGEST_PUBLIC_BASE_URL": ingest.base_url,
    }
    log_path = run.log_dir / f"{name}.log"
    with run.subject(name, "services.ingest", ["--no-smtp", "--no-raw"], env) as process:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"ingest exited with {process.returncode}; see {log_path}")
            probes = (f"{ingest.base_url}/readyz", f"http://127.0.0.1:{metrics_port}/readyz")
            try:
                if all(httpx.get(url, timeout=1).status_code == 200 for url in probes):
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"ingest was not ready within 60 s; see {log_path}")
            time.sleep(0.2)
        yield ingest


def free_port_run(length: int) -> int:
    """A port p with p … p + length - 1 free (worker i serves metrics on p + i), taken below
    the ephemeral range: there an outgoing connection (the load generator opens dozens) can
    take p + i between this check and the worker's bind."""
    rng = random.Random()
    for _ in range(100):
        port = rng.randrange(*QUIET_PORTS)
        with ExitStack() as held:
            try:
                for offset in range(length):
                    probe = held.enter_context(socket.socket())
                    probe.bind(("0.0.0.0", port + offset))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no {length} adjacent free ports")


def channel_requests(ingest: Ingest, channel: str, count: int, seed: int) -> list[bytes]:
    """`count` distinct, valid, signed requests for `channel`, as its provider sends them."""
    rng = random.Random(seed)
    requests = []
    for index in range(count):
        prospect = make_prospect(rng)
        token = f"{seed:04d}{index:08d}"
        if channel == "form":
            body = form_body(form_fields(prospect, f"sub-{token}", "bench"))
            request = render("/v1/leads/forms/contact", body, "application/x-www-form-urlencoded")
        elif channel == "chat":
            body = chat_body(prospect, f"c_{token}", f"v_{token}")
            signed = ("X-Hub-Signature-256", hub_signature(CHAT_SECRET, body))
            request = render("/v1/leads/chat", body, "application/json", [signed])
        elif channel == "sms":
            params = twilio_params(prospect, f"SM{token}", SMS_TO)
            path = "/v1/leads/sms/twilio"
            signature = twilio_signature(TWILIO_TOKEN, ingest.base_url + path, params)
            body = urlencode(params).encode()
            request = render(
                path, body, "application/x-www-form-urlencoded", [("X-Twilio-Signature", signature)]
            )
        elif channel == "email":
            message = email_message(prospect, f"m{token}", EMAIL_TO, 1_780_000_000_000 + index)
            path = f"/v1/leads/email?recipient={EMAIL_TO}"
            request = render(path, message.as_bytes(), "message/rfc822")
        else:
            raise ValueError(f"channel must be one of {', '.join(CHANNELS)}, got {channel!r}")
        requests.append(request)
    return requests
