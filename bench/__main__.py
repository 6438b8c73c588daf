"""`python -m bench [--quick]`: run the benchmarks, print the table, write the JSON and PNG.

Starts its own Kafka broker (a `LocalBroker` on a free port, stopped at the end) unless
`--bootstrap` names one. A part that fails is reported and the others still run; the exit code
is then 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench.backtest import run_backtest_part
from bench.broker import bench_broker, warm_up
from bench.context import LeadCorpus, Run, Sizes
from bench.decision_cost import run_decision_cost
from bench.derived import add_ratios
from bench.ingest_rate import run_ingest
from bench.passthrough import run_passthrough
from bench.plot import write_png
from bench.report import Report
from bench.restore import run_restore
from bench.router_throughput import run_router, run_scaling
from bench.sla import run_sla
from bench.speed_to_lead import run_speed_to_lead
from bench.table import print_table
from services.streaming.local_broker import LIBS_DIR

REPO_ROOT = Path(__file__).resolve().parents[1]
PARTS: dict[str, Callable[[Run], None]] = {
    "passthrough": run_passthrough,
    "router": run_router,
    "speed_to_lead": run_speed_to_lead,
    "ingest": run_ingest,
    "restore": run_restore,
    "sla": run_sla,
    "scaling": run_scaling,
    "decision": run_decision_cost,
    "backtest": run_backtest_part,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes: under 2 minutes")
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=(f"comma-separated subset of: {', '.join(PARTS)} (default: all of these)"),
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every count by this")
    parser.add_argument("--bootstrap", help="use this broker instead of starting one")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results")
    parser.add_argument(
        "--profile", action="store_true", help="sample the measured services with py-spy"
    )
    args = parser.parse_args(argv)
    unknown = set(args.parts.split(",")) - set(PARTS)
    if unknown:
        expected = ", ".join(PARTS)
        parser.error(f"--parts: unknown {', '.join(sorted(unknown))}; expected {expected}")
    if args.scale <= 0:
        parser.error(f"--scale must be positive, got {args.scale}")
    return args


def kafka_version(bootstrap: str | None) -> str:
    if bootstrap:
        return "external broker (version not probed)"
    jars = sorted(LIBS_DIR.glob("kafka_2.13-*.jar"))
    return jars[0].stem.removeprefix("kafka_2.13-") if jars else "unknown"


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    args = parse_args(argv)
    sizes = (Sizes.quick() if args.quick else Sizes.full()).scaled(args.scale)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    report = Report(mode="quick" if args.quick else "full", sizes=dataclasses.asdict(sizes))
    log_dir = REPO_ROOT / ".run" / "bench" / stamp
    log_dir.mkdir(parents=True, exist_ok=True)
    profile_dir = log_dir / "profiles" if args.profile else None
    failed = []
    started = time.monotonic()
    with bench_broker(args.bootstrap) as bootstrap:
        warm_up(bootstrap)
        run = Run(bootstrap, sizes, report, log_dir, LeadCorpus(), profile_dir)
        for name in args.parts.split(","):
            print(f"bench: {name} ...", file=sys.stderr, flush=True)
            part_started = time.monotonic()
            try:
                PARTS[name](run)
            except Exception as exc:
                failed.append(name)
                report.notes.append(f"{name} failed: {type(exc).__name__}: {exc}")
                traceback.print_exc()
            print(f"bench: {name} took {time.monotonic() - part_started:.0f} s", file=sys.stderr)
    add_ratios(report)
    took = time.monotonic() - started
    report.notes.append(f"whole run took {took:.0f} s; logs in {_shown(log_dir)}")
    print_table(report)
    json_path = report.write(
        args.out / f"bench-{report.mode}-{stamp}.json", kafka_version(args.bootstrap)
    )
    png_path = write_png(report, args.out / f"bench-{report.mode}-{stamp}.png")
    for path in (json_path, png_path):
        print(f"wrote {_shown(path)}")
    return 1 if failed else 0


def _shown(path: Path) -> Path:
    return path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path


if __name__ == "__main__":
    sys.exit(main())
