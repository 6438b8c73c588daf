"""`make run` under a pseudo-terminal: the live view shows assignments within 60 s of the broker
being up, and Ctrl-C leaves no process behind.

It runs on its own broker (a free port, data in a temporary directory) and free service ports,
so it neither touches a developer's stack nor collides with other tests. Every process it starts
inherits a marker variable; afterwards no live process may carry it.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shutil
import signal
import struct
import termios
import time
import uuid
from pathlib import Path

import pytest

from tests.e2e.processes import MARK, free_ports, marked_pids

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\r")


class Terminal:
    """The master side of the child's pty: everything it printed, ANSI codes removed."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.raw = b""

    def read(self, timeout_s: float) -> None:
        ready, _, _ = select.select([self.fd], [], [], timeout_s)
        if ready:
            try:
                self.raw += os.read(self.fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                time.sleep(timeout_s)

    @property
    def text(self) -> str:
        return ANSI.sub(b"", self.raw).decode(errors="replace")

    def wait_for(self, pattern: str, timeout_s: float) -> re.Match[str] | None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = re.search(pattern, self.text)
            if found:
                return found
            self.read(0.5)
        return re.search(pattern, self.text)


def test_make_run_shows_assignments_within_a_minute_and_ctrl_c_stops_everything(
    tmp_path: Path,
) -> None:
    if shutil.which("make") is None:
        pytest.fail("make is missing")
    kafka, http, smtp, m1, m2, m3, m4, sink, console, m5 = free_ports(10)
    mark = uuid.uuid4().hex
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            (
                "KAFKA_",
                "INGEST_",
                "ROUTER_",
                "SLA_",
                "NOTIFIER_",
                "CONSOLE_",
                "LEADROUTER_",
                "MAKE",
                "MFLAGS",
            )
        )
    }
    env.update(
        {
            MARK: mark,
            "TERM": "xterm-256color",
            "KAFKA_PORT": str(kafka),
            "INGEST_HTTP_PORT": str(http),
            "INGEST_SMTP_PORT": str(smtp),
            "INGEST_METRICS_PORT": str(m1),
            "ROUTER_METRICS_PORT": str(m2),
            "SLA_METRICS_PORT": str(m3),
            "NOTIFIER_METRICS_PORT": str(m4),
            "NOTIFIER_SMTP_PORT": str(sink),
            "CONSOLE_PORT": str(console),
            "CONSOLE_METRICS_PORT": str(m5),
            "LEADROUTER_RUN_DIR": str(tmp_path / "run"),
        }
    )
    pid, fd = pty.fork()
    if pid == 0:  # the child: `make run` on the pty, as a person would type it
        os.chdir(REPO)
        os.execvpe("make", ["make", "--no-print-directory", "run"], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
    terminal = Terminal(fd)
    try:
        up = terminal.wait_for(r"kafka is up at", timeout_s=240)
        assert up, f"the broker never came up:\n{terminal.text[-3000:]}"
        broker_up = time.monotonic()
        login = rf"console +http://127\.0\.0\.1:{console}/  \(demo login: token lrc_\S+\)"
        assert terminal.wait_for(login, timeout_s=60), terminal.text[-3000:]
        shown = terminal.wait_for(r"decisions: [1-9]\d*", timeout_s=60)
        assert shown, f"no assignment in the view 60 s after the broker:\n{terminal.text[-4000:]}"
        assert time.monotonic() - broker_up <= 60
        assert terminal.wait_for(r"assign->assigned", timeout_s=15), terminal.text[-4000:]
        assert terminal.wait_for(r"config v\d+ \([0-9a-f]{8}\)", timeout_s=5), terminal.text[-4000:]
        # The notifier's email reaches the demo's SMTP sink, and the view counts it.
        assert terminal.wait_for(r"notified: email [1-9]", timeout_s=30), terminal.text[-4000:]

        os.write(fd, b"\x03")  # Ctrl-C, through the terminal's line discipline
        stopped = terminal.wait_for(r"stopped; logs are in", timeout_s=90)
        assert stopped, f"no clean stop after Ctrl-C:\n{terminal.text[-3000:]}"
        assert re.search(r"notifier: [1-9]\d* email\(s\) reached", terminal.text), terminal.text
        deadline = time.monotonic() + 30
        status = 0
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            terminal.read(0.2)
        else:
            pytest.fail("make run did not exit within 30 s of stopping")
        # make re-raises the terminal's SIGINT on itself once its child is done; the CLI's own
        # failure would show as make's "Error N" instead.
        assert os.waitstatus_to_exitcode(status) in (0, -signal.SIGINT), terminal.text[-2000:]
        assert not re.search(r"make: \*\*\* .*Error \d+", terminal.text), terminal.text[-2000:]
        assert marked_pids(mark) == [], "processes left behind after Ctrl-C"
        assert (tmp_path / "run" / "logs" / "router.log").exists()
    finally:
        for leftover in marked_pids(mark):
            os.kill(leftover, signal.SIGKILL)
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)
