"""leadrouter-console: wiring only. Settings -> projection and its projector thread -> action
writer -> HTTP server on CONSOLE_PORT; metrics, /healthz and /readyz on CONSOLE_METRICS_PORT.

Live while the projector and the HTTP server run; ready once the projection has applied every
record that existed when it started. SIGTERM or SIGINT stops both and exits 0.
"""

from __future__ import annotations

import logging
import sys
import threading

from prometheus_client import CollectorRegistry

from services.console.actions import ActionWriter
from services.console.app import console_app
from services.console.auth import Gate
from services.console.projection import Projection, connect
from services.console.projector import Projector
from services.console.service import ConsoleService
from services.console.settings import ConsoleSettings
from services.console.web_metrics import ConsoleMetrics
from services.ingest.doors import HttpDoor
from services.streaming.errors import FatalError, SettingsInvalid
from services.streaming.metrics import Health, serve_metrics
from services.streaming.records import SystemClock
from services.streaming.settings import KafkaSettings, MetricsSettings
from services.streaming.shutdown import install_stop_signals

log = logging.getLogger("leadrouter.console")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings, kafka, metrics_settings = ConsoleSettings(), KafkaSettings(), MetricsSettings()
    except SettingsInvalid as exc:
        log.error("%s", exc)
        return 2
    if settings.session_secret is None:
        log.warning("CONSOLE_SESSION_SECRET is not set: sessions end when this process stops")
    if not settings.tokens:
        log.warning("CONSOLE_TOKENS is empty: nobody can log in (leadrouter console token)")
    registry, clock = CollectorRegistry(), SystemClock()
    metrics = ConsoleMetrics.create(registry)
    stop = threading.Event()
    install_stop_signals(stop.set, "leadrouter-console")
    projection = Projection(connect(settings.db))
    projector = Projector(
        kafka, projection, batch_records=settings.batch_records, on_applied=metrics.applied.inc
    )
    projecting = threading.Thread(target=projector.run, args=(stop,), name="projector", daemon=True)
    writer = ActionWriter(kafka, settings.instance)
    service = ConsoleService(connect(settings.db), writer, kafka, metrics, clock)
    app = console_app(service, Gate(settings, metrics, clock), secure_cookie=settings.secure_cookie)
    http = HttpDoor(app, settings.host, settings.port)

    def health() -> Health:
        if not (projecting.is_alive() and http.alive):
            return Health(False, False, "projector or HTTP server stopped")
        if not projector.caught_up.is_set():
            return Health(True, False, "projection catching up")
        metrics.caught_up.set(1)
        return Health(True, True, "serving")

    code = 0
    try:
        serve_metrics(registry, settings.metrics_port, metrics_settings.host, health=health)
        projecting.start()
        http.start()
        log.info("console on http://%s:%d", settings.host, settings.port)
        while not stop.wait(0.5):
            if not (projecting.is_alive() and http.alive):
                log.error("the projector or the HTTP server stopped on its own: shutting down")
                code = 1
                break
    except FatalError as exc:
        log.error("%s", exc)
        code = 1
    finally:
        stop.set()
        http.stop()
        projecting.join(10)
        projector.close()
        writer.close()
    log.info("stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
