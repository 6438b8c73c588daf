"""`leadrouter`: the admin CLI. Each command group lives in its own module, listed here."""

from __future__ import annotations

import argparse
import importlib
import sys

from services.cli.base import CommandError

COMMAND_GROUPS = (
    "services.cli.topics_cmd",
    "services.cli.assignments_cmd",
    "services.cli.top_cmd",
    "services.cli.lead_cmd",
    "services.cli.run_cmd",
    "services.cli.activity_cmd",
    "services.cli.config_cmd",
    "services.cli.reps_cmd",
    "services.cli.replay_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leadrouter",
        description="Admin commands for leadrouter. The broker comes from KAFKA_BOOTSTRAP_SERVERS "
        "(default 127.0.0.1:9092); security settings from KAFKA_SECURITY_PROTOCOL, "
        "KAFKA_SASL_* and KAFKA_SSL_*.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_GROUPS:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except CommandError as exc:
        print(f"leadrouter {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
