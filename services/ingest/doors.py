"""The three front doors as threads one process runs side by side, each with start and stop,
and the extra HTTP worker processes it supervises the same way.

`start()` returns once the door is serving (bounded); `stop()` ends it and waits (bounded);
`alive` turns False if the door died on its own, and the process then stops as a whole.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from typing import Protocol

import uvicorn
from aiosmtpd.controller import Controller
from starlette.applications import Starlette

from services.streaming.errors import FatalError
from services.streaming.loop import TransactionalLoop

START_TIMEOUT_S = 15.0
WORKER_START_TIMEOUT_S = 45.0
"""A worker is a whole interpreter importing everything afresh: seconds on a loaded machine."""
STOP_TIMEOUT_S = 15.0


class Door(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...

    @property
    def alive(self) -> bool: ...


class HttpDoor:
    """uvicorn in a thread. `shared` binds the port with SO_REUSEPORT, so that the kernel
    spreads connections over every worker process listening on it."""

    name = "http"

    def __init__(self, app: Starlette, host: str, port: int, *, shared: bool = False) -> None:
        config = uvicorn.Config(
            app, host=host, port=port, lifespan="off", access_log=False, log_config=None
        )
        self.server = uvicorn.Server(config)
        self.host, self.port, self.shared = host, port, shared
        self.thread = threading.Thread(target=self._serve, name="ingest-http", daemon=True)

    def _serve(self) -> None:
        if not self.shared:
            self.server.run()
            return
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            listener.bind((self.host, self.port))
        except OSError:
            listener.close()
            return  # start() reports it: the thread ends before the server started
        self.server.run(sockets=[listener])

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


class HttpWorker:
    """HTTP worker process `slot` (> 0): `python -m services.ingest --http-worker <slot>`, with
    this process's environment. `start()` returns once the worker's /readyz (on
    `metrics_port`) says its server listens, or at once when it serves no metrics; alive while
    the process runs; stopped by SIGTERM, which it answers by delivering what is queued."""

    def __init__(self, slot: int, metrics_port: int | None) -> None:
        self.name = f"http worker {slot}"
        self.command = [sys.executable, "-m", "services.ingest", f"--http-worker={slot}"]
        self.command += [] if metrics_port is not None else ["--no-metrics"]
        self.readyz = None if metrics_port is None else f"http://127.0.0.1:{metrics_port}/readyz"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, env=os.environ.copy())
        deadline = time.monotonic() + WORKER_START_TIMEOUT_S
        while self.readyz is not None and not _answers(self.readyz):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise FatalError(f"{self.name} did not start (see its log lines above)")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            return bool(answer.status == 200)
    except OSError:  # refused while it starts, or 503 (HTTPError) until it listens
        return False
