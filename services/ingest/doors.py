"""The three front doors as threads one process runs side by side, each with start and stop.

`start()` returns once the door is serving (bounded); `stop()` ends it and waits (bounded);
`alive` turns False if the door died on its own, and the process then stops as a whole.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import uvicorn
from aiosmtpd.controller import Controller
from starlette.applications import Starlette

from services.streaming.errors import FatalError
from services.streaming.loop import TransactionalLoop

START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 15.0


class Door(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...

    @property
    def alive(self) -> bool: ...


class HttpDoor:
    name = "http"

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        config = uvicorn.Config(
            app, host=host, port=port, lifespan="off", access_log=False, log_config=None
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="ingest-http", daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise FatalError("the HTTP server did not start (is the port in use?)")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(STOP_TIMEOUT_S)

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()


class SmtpDoor:
    name = "smtp"

    def __init__(self, controller: Controller) -> None:
        self.controller = controller
        self.started = False

    def start(self) -> None:
        try:
            self.controller.start()
        except (OSError, RuntimeError, TimeoutError) as exc:
            raise FatalError(f"the SMTP listener did not start: {exc}") from exc
        self.started = True

    def stop(self) -> None:
        if self.started:
            self.controller.stop()
            self.started = False

    @property
    def alive(self) -> bool:
        thread = self.controller._thread  # aiosmtpd keeps its server thread here
        return thread is not None and thread.is_alive()


class RawDoor:
    name = "raw"

    def __init__(self, loop: TransactionalLoop) -> None:
        self.loop = loop
        self.thread = threading.Thread(target=loop.run, name="ingest-raw", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.loop.stop()
        self.thread.join(STOP_TIMEOUT_S)

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()
