"""What `leadrouter up` started, kept in `.run/stack.json` so `leadrouter down` can stop it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from services.streaming.local_broker import LocalBroker


@dataclass
class StackRecord:
    """What `up` leaves in `.run/stack.json` for `down`."""

    bootstrap: str
    broker_port: int | None
    broker_dir: str | None = None
    services: dict[str, int] = field(default_factory=dict)


def signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(pid, signum)


def stop_recorded(run_dir: Path, grace_s: float = 15.0) -> list[str]:
    """Stop what `.run/stack.json` names; returns what was stopped, in order."""
    path = run_dir / "stack.json"
    if not path.exists():
        return []
    record = StackRecord(**json.loads(path.read_text()))
    stopped = []
    for name, pid in record.services.items():
        if alive(pid):
            signal_group(pid, signal.SIGTERM)
            deadline = time.monotonic() + grace_s
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if alive(pid):
                signal_group(pid, signal.SIGKILL)
            stopped.append(name)
    if record.broker_port is not None:
        run_dir_of_broker = Path(record.broker_dir) if record.broker_dir else None
        broker = LocalBroker(port=record.broker_port, run_dir=run_dir_of_broker)
        if broker.running_pid() is not None:
            broker.stop()
            stopped.append(f"kafka on {record.bootstrap}")
    path.unlink()
    return stopped


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"
