"""`leadrouter assignments tail`: decoded assignments with their decision trace, as they happen."""

from __future__ import annotations

import argparse
import sys

from services.cli.base import CommandError, Subparsers
from services.console.assignment_feed import AssignmentFeed
from services.console.assignment_text import headline, trace_lines
from services.leads.events import Assignment
from services.streaming.settings import KafkaSettings


def register(subparsers: Subparsers) -> None:
    group = subparsers.add_parser("assignments", help="read the router's decisions")
    actions = group.add_subparsers(dest="action", required=True)
    tail = actions.add_parser(
        "tail", help="print assignments with their decision trace as they are committed"
    )
    tail.add_argument(
        "--from-beginning", action="store_true", help="start at the oldest retained record"
    )
    tail.add_argument("--lead", help="only this lead id")
    tail.add_argument("--limit", type=int, help="stop after this many assignments")
    tail.add_argument(
        "--idle-exit",
        type=float,
        metavar="SECONDS",
        help="stop when nothing arrived for this long (default: follow until Ctrl-C)",
    )
    tail.add_argument("--json", action="store_true", help="one JSON document per line")
    tail.add_argument("--no-trace", action="store_true", help="headlines only")
    tail.set_defaults(func=_tail)


def _tail(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        raise CommandError(f"--limit must be at least 1, got {args.limit}")
    feed = AssignmentFeed(KafkaSettings(), from_beginning=args.from_beginning)
    shown, idle = 0, 0.0
    try:
        while args.limit is None or shown < args.limit:
            got = False
            for item in feed.poll(0.5):
                got = True
                if item.assignment is None:
                    print(
                        f"# partition {item.partition} offset {item.offset}: {item.error}",
                        file=sys.stderr,
                    )
                    continue
                if args.lead and item.assignment.lead_id != args.lead:
                    continue
                _print(item.assignment, args)
                shown += 1
                if args.limit is not None and shown >= args.limit:
                    break
            idle = 0.0 if got else idle + 0.5
            if args.idle_exit is not None and idle >= args.idle_exit:
                break
    finally:
        feed.close()
    return 0


def _print(assignment: Assignment, args: argparse.Namespace) -> None:
    if args.json:
        print(assignment.model_dump_json(), flush=True)
        return
    print(headline(assignment), flush=True)
    if not args.no_trace:
        for line in trace_lines(assignment):
            print(f"    {line}", flush=True)
