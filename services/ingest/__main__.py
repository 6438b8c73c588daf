"""leadrouter-ingest: wiring only. Settings -> publisher and loop -> the chosen front doors.

    leadrouter-ingest                   HTTP, SMTP and the raw-topic front door
    leadrouter-ingest --no-smtp --no-raw  HTTP only

With INGEST_HTTP_WORKERS=N > 1 this process starts N - 1 more HTTP-only processes
(`--http-worker <i>`) on the same port (SO_REUSEPORT), each with its own producer and metrics
port, and stops them with itself; one that dies stops the whole service, as a dead door does.

SIGTERM or SIGINT stops every door, delivers what is queued, and exits 0; a door that dies on
its own stops the process with exit code 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading

from prometheus_client import CollectorRegistry

from services.ingest.doors import Door, HttpDoor, HttpWorker, RawDoor, SmtpDoor
from services.ingest.http_app import IngestApp
from services.ingest.metrics import IngestMetrics
from services.ingest.publisher import LeadPublisher
from services.ingest.raw_topics import raw_handler
from services.ingest.settings import IngestSettings
from services.ingest.smtp_server import LeadMailHandler, smtp_controller
from services.leads.topics import RAW_CHANNELS, Topic, raw_topic
from services.streaming.errors import FatalError, SettingsInvalid
from services.streaming.loop import LoopSettings, Processor, TransactionalLoop
from services.streaming.metrics import Health, combined, serve_metrics
from services.streaming.records import SystemClock
from services.streaming.settings import KafkaSettings, MetricsSettings
from services.streaming.shutdown import install_stop_signals

log = logging.getLogger("leadrouter.ingest")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="leadrouter-ingest",
        description="Front doors for leads: HTTP webhooks, SMTP, and leads.raw.<channel> topics.",
    )
    for door in ("http", "smtp", "raw"):
        parser.add_argument(
            f"--{door}", action=argparse.BooleanOptionalAction, default=True,
            help=f"run the {door} front door (default: on)",
        )  # fmt: skip
    parser.add_argument(
        "--metrics", action=argparse.BooleanOptionalAction, default=True,
        help="serve /metrics on INGEST_METRICS_PORT (default: on)",
    )  # fmt: skip
    parser.add_argument(
        "--http-worker", type=int, default=0, metavar="SLOT",
        help="run as HTTP worker SLOT > 0 of INGEST_HTTP_WORKERS: HTTP only, metrics on "
        "INGEST_METRICS_PORT + SLOT (the first process starts these itself)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.http_worker:
        args.http, args.smtp, args.raw = True, False, False
    return args


def load_settings() -> tuple[IngestSettings, KafkaSettings, MetricsSettings]:
    """Every setting from the environment; a bad value is a SettingsInvalid naming the variable."""
    return IngestSettings(), KafkaSettings(), MetricsSettings()


def build_doors(
    args: argparse.Namespace, settings: IngestSettings, kafka: KafkaSettings, *,
    registry: CollectorRegistry, metrics: IngestMetrics, publisher: LeadPublisher,
) -> list[Door]:  # fmt: skip
    clock = SystemClock()
    doors: list[Door] = []
    if args.http:
        app = IngestApp(settings, publisher, metrics, clock).asgi()
        shared = settings.http_workers > 1
        doors.append(HttpDoor(app, settings.http_host, settings.http_port, shared=shared))
        if not args.http_worker:
            for slot in range(1, settings.http_workers):
                port = settings.metrics_port + slot if args.metrics else None
                doors.append(HttpWorker(slot, port))
    if args.smtp:
        handler = LeadMailHandler(settings, publisher, metrics, clock)
        doors.append(SmtpDoor(smtp_controller(handler, settings)))
    if args.raw:
        channels = {kafka.topic(raw_topic(c)): c for c in RAW_CHANNELS}
        processor = Processor(
            app_id=f"{kafka.topic_prefix}leadrouter-ingest-raw",  # a test prefix isolates it
            inputs=sorted(channels),
            handle=raw_handler(channels, kafka.topic(Topic.INBOUND), settings.max_lead_bytes),
            dead_letter_topic=kafka.topic(Topic.DEAD_LETTER),
        )
        loop_settings = LoopSettings(instance=settings.raw_instance)
        doors.append(RawDoor(TransactionalLoop(processor, kafka, loop_settings, registry, clock)))
    return doors


def open_doors(args: argparse.Namespace, settings: IngestSettings) -> list[str]:
    """One line for each way in that takes leads nobody signed (logged as warnings at start)."""
    found: list[str] = []
    if args.http:
        for name, secret in (
            ("INGEST_TWILIO_AUTH_TOKEN", settings.twilio_auth_token),
            ("INGEST_CHAT_SECRET", settings.chat_secret),
            ("INGEST_MAILGUN_SIGNING_KEY", settings.mailgun_signing_key),
        ):
            if secret is None:
                found.append(f"{name} is not set: that endpoint accepts unsigned requests")
        if settings.email_secret is None and settings.mailgun_signing_key is None:
            found.append("INGEST_EMAIL_SECRET is not set: raw MIME posts are accepted unsigned")
        if settings.allow_unconfigured_forms:
            found.append(
                "INGEST_ALLOW_UNCONFIGURED_FORMS is true: any form id is accepted, unsigned"
            )
        for form_id, form in sorted(settings.forms.items()):
            if form.secret is None:
                found.append(f"INGEST_FORMS: form {form_id!r} has no secret: accepted unsigned")
    return found


def warn_about_open_doors(args: argparse.Namespace, settings: IngestSettings) -> None:
    for line in open_doors(args, settings):
        log.warning("%s", line)
    if args.smtp and not (settings.smtp_recipients or settings.smtp_domains):
        log.warning("INGEST_SMTP_RECIPIENTS and INGEST_SMTP_DOMAINS are empty: no mail accepted")


def doors_health(doors: list[Door], expected: int) -> Health:
    """Live while every started door runs; ready once all `expected` doors started (HTTP
    workers included) and the raw-topic door's loop is ready."""
    dead = [door.name for door in doors if not door.alive]
    if dead:
        return Health(False, False, f"front door stopped: {', '.join(dead)}")
    if len(doors) < expected:
        return Health(True, False, "starting front doors")
    raw_loops = [door.loop.health for door in doors if isinstance(door, RawDoor)]
    if raw_loops:
        return combined(raw_loops)()
    return Health(True, True, ", ".join(door.name for door in doors))


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # per-connection peer chatter
    args = parse_args(argv)
    try:
        settings, kafka, metrics_settings = load_settings()
    except SettingsInvalid as exc:
        log.error("%s", exc)
        return 2
    registry = CollectorRegistry()
    if not args.http_worker:
        warn_about_open_doors(args, settings)
    parent = os.getppid()
    stop = threading.Event()
    install_stop_signals(stop.set, "leadrouter-ingest")
    metrics = IngestMetrics.create(registry)
    publisher = LeadPublisher(kafka, settings.publish_timeout_ms, metrics, settings.max_lead_bytes)
    doors = build_doors(
        args, settings, kafka, registry=registry, metrics=metrics, publisher=publisher
    )
    started: list[Door] = []
    code = 0
    try:
        if args.metrics:
            port = settings.metrics_port + args.http_worker
            serve_metrics(
                registry,
                port,
                metrics_settings.host,
                health=lambda: doors_health(started, len(doors)),
            )
        for door in doors:
            door.start()
            started.append(door)
            log.info("%s front door started", door.name)
        while not stop.wait(0.5):
            if args.http_worker and os.getppid() != parent:
                log.error("the process that started this HTTP worker is gone: shutting down")
                break
            dead = [door.name for door in started if not door.alive]
            if dead:
                log.error("front door %s stopped on its own: shutting down", ", ".join(dead))
                code = 1
                break
    except FatalError as exc:
        log.error("%s", exc)
        code = 1
    finally:
        for door in reversed(started):
            door.stop()
        publisher.close()
    log.info("stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
