"""`leadrouter`: the admin CLI. Each command group lives in its own module, listed here."""

from __future__ import annotations

import argparse
import importlib
import sys

from services.streaming.errors import LeadrouterError, PermanentError, SettingsInvalid

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
    "services.cli.backtest_cmd",
    "services.cli.owners_cmd",
    "services.cli.console_cmd",
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
    """Run one command. The only place an error becomes a message and an exit code: 2 for a
    bad environment variable (as argparse exits 2 for bad arguments), 1 for any other error of
    the tree, 130 for Ctrl-C."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except LeadrouterError as exc:
        print(f"leadrouter {args.command}: {failure_line(exc)}", file=sys.stderr)
        return 2 if isinstance(exc, SettingsInvalid) else 1
    except KeyboardInterrupt:
        return 130


def failure_line(exc: LeadrouterError) -> str:
    # A permanent error's reason label is for metrics and dead letters; a person reads the detail.
    return exc.detail if isinstance(exc, PermanentError) else str(exc)


if __name__ == "__main__":
    sys.exit(main())
