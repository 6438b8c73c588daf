"""Sampling profiles of the processes under test (py-spy, every thread), summarised as text.

py-spy attaches to a running process, so the subject starts exactly as it does unprofiled;
`--nonblocking` keeps the sampler from pausing it. The raw collapsed stacks are kept beside a
summary: the functions with the most samples on the stack (inclusive) and on top (self).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_RATE_HZ = 200
TOP = 30


def py_spy() -> str | None:
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


@contextmanager
def sampling(pid: int, raw_path: Path) -> Iterator[None]:
    """Sample `pid` until the block ends, then write `raw_path` and its `.summary.txt`."""
    binary = py_spy()
    if binary is None:
        raise RuntimeError("--profile needs py-spy: pip install -e '.[bench]'")
    command = [binary, "record", "--pid", str(pid), "--rate", str(SAMPLE_RATE_HZ)]
    command += ["--nonblocking", "--format", "raw", "--output", str(raw_path)]
    sampler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        sampler.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        try:
            sampler.wait(30)
        except subprocess.TimeoutExpired:
            sampler.kill()
            sampler.wait()
        if raw_path.exists():
            raw_path.with_suffix(".summary.txt").write_text(summarise(raw_path.read_text()))


def summarise(collapsed: str) -> str:
    """Top functions by inclusive and self samples from py-spy's collapsed-stack output."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(frame) for frame in stack.split(";")]
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    lines = [f"{total} samples at {SAMPLE_RATE_HZ} Hz (every thread, idle waits included)", ""]
    for title, counter in (("inclusive", inclusive), ("self", own)):
        lines.append(f"top {TOP} by {title} samples:")
        for frame, count in counter.most_common(TOP):
            lines.append(f"  {100 * count / max(total, 1):5.1f}%  {frame}")
        lines.append("")
    return "\n".join(lines)


def _short(frame: str) -> str:
    """`func (path/to/site-packages/pkg/mod.py:12)` -> `func (pkg/mod.py)`."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", f"{REPO_ROOT}/", "lib/python3."):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({'/'.join(path.split('/')[-3:])})"
