"""What a benchmark run produces: figures that each say what was timed, and the machine.

`Figure` is one number. `Report` collects them with the latency samples behind the
percentiles and the machine they came from, and writes the JSON under `bench/results/`.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("confluent-kafka", "fastavro", "pydantic", "starlette", "uvicorn", "httpx")


@dataclass(frozen=True, slots=True)
class Figure:
    part: str
    """Which benchmark: passthrough, restore, router, speed_to_lead, ingest, scaling, decision."""
    name: str
    value: float
    unit: str
    timed: str
    """Exactly what was timed, from which event to which, over how many items."""
    count: int = 0
    details: dict[str, float] = field(default_factory=dict)


@dataclass
class Report:
    mode: str
    sizes: dict[str, Any] = field(default_factory=dict)
    """The counts, rates and budgets this run used."""
    figures: list[Figure] = field(default_factory=list)
    samples_ms: dict[str, list[float]] = field(default_factory=dict)
    """Latency samples per named series (for the PNG), thinned to at most 5,000 each."""
    curves: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    """(x, y) series for the throughput plots, e.g. instances -> leads/s."""
    notes: list[str] = field(default_factory=list)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def value(self, part: str, name: str) -> float | None:
        return next((f.value for f in self.figures if f.part == part and f.name == name), None)

    def to_json(self, kafka_version: str) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "sizes": self.sizes,
            "machine": machine(kafka_version),
            "figures": [asdict(f) for f in self.figures],
            "samples_ms": self.samples_ms,
            "curves": {k: [list(p) for p in v] for k, v in self.curves.items()},
            "notes": self.notes,
        }

    def write(self, path: Path, kafka_version: str) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(kafka_version), indent=2) + "\n")
        return path


def machine(kafka_version: str) -> dict[str, Any]:
    versions = {name: _version(name) for name in PACKAGES}
    versions |= {"python": platform.python_version(), "kafka_broker": kafka_version}
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": _memory_gb(),
        "platform": platform.platform(),
        "python_implementation": sys.implementation.name,
        "versions": versions,
    }


def thin(samples: list[float], limit: int = 5000) -> list[float]:
    """Every k-th sorted sample so the distribution's shape survives; ends always kept."""
    ordered = sorted(samples)
    if len(ordered) <= limit:
        return [round(s, 3) for s in ordered]
    step = len(ordered) / limit
    picked = [ordered[int(i * step)] for i in range(limit - 1)] + [ordered[-1]]
    return [round(s, 3) for s in picked]


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None
