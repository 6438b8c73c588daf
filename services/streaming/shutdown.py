"""Stopping a service on SIGTERM/SIGINT within its grace period, whatever the broker does.

The first signal asks the service to stop (commit what is open, close). If it has not exited
`grace_s` later, or a second signal comes, the process exits at once: a transactional call can
block for librdkafka's request timeout (30 s) while the broker does not answer, longer than an
orchestrator waits (compose 10 s, Kubernetes 30 s by default) before it kills. Exiting then
is as safe as that kill: what was not committed is aborted by the broker and read again by
the next owner of the partitions, and nothing was acknowledged before the broker had it.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

DEFAULT_GRACE_S = 8.0
"""Under compose's 10 s, so the exit is ours and logged, not a SIGKILL."""


def install_stop_signals(
    stop: Callable[[], object], name: str, grace_s: float = DEFAULT_GRACE_S
) -> None:
    stopping = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        if stopping.is_set():
            exit_now(name, "a second stop signal")
        stopping.set()
        log.info("%s: %s received, stopping", name, signal.Signals(signum).name)
        watchdog = threading.Timer(grace_s, exit_now, [name, f"the {grace_s:.0f} s grace period"])
        watchdog.daemon = True
        watchdog.start()
        stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


def exit_now(name: str, why: str) -> None:
    log.warning("%s: not stopped by %s: exiting now; nothing uncommitted is lost", name, why)
    logging.shutdown()
    os._exit(0)


def serve(run: Callable[[], None], stop: Callable[[], object], name: str, grace_s: float) -> None:
    """Run `run` as the process's main job, stopped by SIGTERM/SIGINT within `grace_s`.

    `run` gets a thread of its own, because Python runs signal handlers only in the main
    thread and only between bytecodes: a main thread blocked in a librdkafka call would not
    even see the signal until the call returned. The main thread waits, takes the signals,
    and re-raises whatever ended `run`."""
    failures: list[BaseException] = []

    def target() -> None:
        try:
            run()
        except BaseException as exc:
            failures.append(exc)

    install_stop_signals(stop, name, grace_s)
    worker = threading.Thread(target=target, name=name, daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.5)
    if failures:
        raise failures[0]
