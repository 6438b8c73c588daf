"""The PNG: latency distributions and the throughput figures side by side (Agg backend)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: the benchmark runs in terminals and CI
import matplotlib.pyplot as plt

from bench.report import Report


def write_png(report: Report, path: Path) -> Path:
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    latency, throughput, scaling, decision = axes.flat
    for name, samples in report.samples_ms.items():
        if samples:
            fractions = [(i + 1) / len(samples) for i in range(len(samples))]
            latency.plot(sorted(samples), fractions, label=name)
    latency.set(title="speed-to-lead: HTTP request to assignment visible", xlabel="ms (log)")
    latency.set(ylabel="fraction of leads")
    latency.set_xscale("log")
    if report.samples_ms:
        latency.legend(fontsize=8)

    bars = [f for f in report.figures if f.part in {"passthrough", "router", "ingest"}]
    throughput.barh([f.name for f in bars], [max(f.value, 1.0) for f in bars], color="tab:blue")
    throughput.set(title="throughput (same run, same broker)", xlabel="per second (log)")
    throughput.set_xscale("log")
    throughput.set_xlim(left=10)
    throughput.tick_params(axis="y", labelsize=7)

    for name, points in report.curves.items():
        target = decision if "vs members" in name else scaling
        target.plot([x for x, _ in points], [y for _, y in points], marker="o", label=name)
    scaling.set(title="router scaling", xlabel="router instances", ylabel="leads/s")
    scaling.set_ylim(bottom=0)
    scaling.set_xticks([1, 2])
    scaling.set_xlim(0.5, 2.5)
    decision.set(title="decision cost vs pool size", xlabel="pool members", ylabel="µs/decision")
    decision.set_xscale("log")
    decision.set_yscale("log")
    for axis in (scaling, decision):
        if axis.lines:
            axis.legend(fontsize=8)
    fig.suptitle(f"leadrouter benchmarks ({report.mode})")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
