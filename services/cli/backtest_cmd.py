"""`leadrouter backtest CANDIDATE.yaml`: what a routing config would have done with the history.

Reads the leads of `leads.inbound` (or an exported file, `--input`: an Avro container file or
JSON Lines of leads), the published versions of `routing.config` with their publish times, and
`reps.presence`; runs triage and assign (the router's own code) twice in process, under the
configs in force at each lead's time and under the candidate; and prints what would change.
With `--since`, the leads before it build the state both runs start from (`--from-empty`:
none). `--json` and `--html` write the full report.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.backtest.backtest import Window, backtest
from services.backtest.history import (
    Skipped,
    config_history,
    file_leads,
    presence_history,
    topic_closes,
    topic_leads,
    touch_history,
)
from services.backtest.report import report_data, summary
from services.backtest.report_html import render
from services.cli.base import CommandError, Subparsers
from services.leads.config_errors import ConfigInvalid
from services.leads.routing_config import VersionedConfig
from services.router.config_document import content_hash, parse_config_text
from services.streaming.heap import Tenure, settled
from services.streaming.settings import KafkaSettings

CANDIDATE_VERSION = 0
"""The version the candidate's decision traces name: it was never published."""


def register(subparsers: Subparsers) -> None:
    command = subparsers.add_parser(
        "backtest",
        help="compare a candidate routing config with the configs in force, over the history",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    command.add_argument("candidate", type=Path, help="the routing config YAML to try")
    command.add_argument("--since", type=_instant, help="first lead time (ISO 8601, UTC if bare)")
    command.add_argument("--until", type=_instant, help="leads before this time only")
    command.add_argument("--input", type=Path, help="leads from an export file (Avro or JSONL)")
    command.add_argument("--from-empty", action="store_true",
                         help="with --since: start both runs empty, not from the state the "
                         "retained leads before it built")  # fmt: skip
    command.add_argument("--json", type=Path, help="write the full report as JSON here")
    command.add_argument("--html", type=Path, help="write the report as one HTML page here")
    command.add_argument("--show", type=int, default=10, help="moved leads to print (default 10)")
    command.set_defaults(func=_backtest)


def _instant(text: str) -> int:
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: expected an ISO 8601 time") from exc
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def candidate_config(path: Path) -> VersionedConfig:
    """The candidate file, validated as `config publish` would."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from exc
    try:
        config = parse_config_text(text)
    except ConfigInvalid as exc:
        problems = "\n".join(f"{path}: {p}" for p in str(exc).splitlines())
        raise CommandError(f"the candidate is not a valid routing config:\n{problems}") from exc
    return VersionedConfig(CANDIDATE_VERSION, content_hash(text), config)


def run_backtest(
    settings: KafkaSettings,
    candidate: VersionedConfig,
    window: Window,
    input_file: Path | None = None,
    *,
    from_empty: bool = False,
) -> dict[str, Any]:
    """The report data of one backtest (shared with `config publish --backtest`)."""
    try:
        timeline = config_history(settings)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    skipped = Skipped()
    if input_file is not None:
        if not input_file.is_file():
            raise CommandError(f"--input {input_file}: no such file")
        leads = file_leads(input_file, skipped)
    else:
        leads = topic_leads(settings, skipped, window.since_ms if from_empty else None)
    started = time.monotonic()
    outcome = backtest(
        settled(leads, Tenure()),
        timeline,
        candidate,
        presence=presence_history(settings),
        window=window,
        warm_up=not from_empty,
        closes=topic_closes(settings),
    )
    data = report_data(outcome, touch_history(settings, int(time.time() * 1000)))
    data["unreadable_records"] = skipped.count
    data["seconds"] = round(time.monotonic() - started, 3)
    return data


def backtest_summary(settings: KafkaSettings, candidate: Path, since_ms: int) -> str:
    """The terminal summary of backtesting `candidate` on leads since `since_ms`."""
    return summary(run_backtest(settings, candidate_config(candidate), Window(since_ms)))


def _backtest(args: argparse.Namespace) -> int:
    candidate = candidate_config(args.candidate)
    window = Window(args.since, args.until)
    data = run_backtest(KafkaSettings(), candidate, window, args.input, from_empty=args.from_empty)
    print(summary(data, args.show))
    if data["unreadable_records"]:
        print(f"  unreadable records skipped: {data['unreadable_records']}", file=sys.stderr)
    if args.json is not None:
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        print(f"  JSON report: {args.json}")
    if args.html is not None:
        args.html.write_text(render(data), encoding="utf-8")
        print(f"  HTML report: {args.html}")
    return 0
