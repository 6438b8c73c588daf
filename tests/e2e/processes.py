"""Finding the processes an e2e test started: each inherits a marker variable, so whatever is
still alive afterwards, however deep in the tree or in whatever session, can be found."""

from __future__ import annotations

import socket
from pathlib import Path

MARK = "LEADROUTER_E2E_MARK"


def free_ports(count: int) -> list[int]:
    """Distinct free ports; the first one's successor is free too (broker + controller)."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port in ports or port + 1 in ports:
            continue
        if not ports:
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        ports.append(port)
    return ports


def marked_pids(mark: str) -> list[int]:
    """Live processes whose environment carries `MARK=mark` (zombies excluded)."""
    needle = f"{MARK}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, PermissionError, ProcessLookupError, IndexError):
            continue
        if state != "Z":
            found.append(int(entry.name))
    return found
