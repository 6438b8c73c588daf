"""`leadrouter config validate|publish|show|diff`: the routing config's life cycle.

`validate` needs no broker. The others read or write `routing.config` on the broker from
KAFKA_BOOTSTRAP_SERVERS. Problems print compiler-style (`FILE:LINE: path: message`), one a line,
so editors and CI annotate the right line.
"""

from __future__ import annotations

import argparse
import difflib
import getpass
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from services.cli.backtest_cmd import backtest_summary
from services.cli.base import CommandError, Subparsers
from services.leads.config_diff import config_changes
from services.leads.config_errors import ConfigInvalid
from services.leads.durations import parse_duration_ms
from services.leads.events import RoutingConfigRecord
from services.leads.routing_config import RoutingConfig
from services.router.config_document import (
    content_hash,
    describe,
    parse_config_text,
    warnings_in,
)
from services.router.config_source import publish_config, read_published
from services.streaming.settings import KafkaSettings


def register(subparsers: Subparsers) -> None:
    config = subparsers.add_parser("config", help="validate, publish and inspect routing config")
    actions = config.add_subparsers(dest="action", required=True)
    validate = actions.add_parser("validate", help="check a YAML file; non-zero exit if invalid")
    validate.add_argument("file", type=Path)
    validate.set_defaults(func=_validate)
    publish = actions.add_parser("publish", help="write FILE as the next version")
    publish.add_argument("file", type=Path)
    publish.add_argument("--by", default=None, help="who publishes (default: the OS user)")
    publish.add_argument(
        "--backtest", metavar="SPAN", help="backtest FILE over this much history (7d), then ask"
    )
    publish.add_argument("--yes", action="store_true", help="publish after --backtest unasked")
    publish.set_defaults(func=_publish)
    show = actions.add_parser("show", help="print the version in force (or --version N)")
    show.add_argument("--version", type=int, default=None)
    show.add_argument("--history", action="store_true", help="list every version kept instead")
    show.set_defaults(func=_show)
    diff = actions.add_parser("diff", help="what publishing FILE would change")
    diff.add_argument("file", type=Path)
    diff.add_argument("--text", action="store_true", help="also print a line-by-line diff")
    diff.set_defaults(func=_diff)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from exc


def _parse(path: Path, text: str) -> RoutingConfig:
    """The config in `text`; prints every problem and fails when there is any, then warnings."""
    try:
        config = parse_config_text(text)
    except ConfigInvalid as exc:
        for problem in exc.problems:
            print(describe(problem, str(path)), file=sys.stderr)
        raise CommandError(f"{path}: {len(exc.problems)} problem(s), nothing done") from exc
    for warning in warnings_in(text, config):
        print(f"warning: {describe(warning, str(path))}", file=sys.stderr)
    return config


def _validate(args: argparse.Namespace) -> int:
    text = _read(args.file)
    config = _parse(args.file, text)
    counts = ", ".join(
        [
            _count(len(config.reps), "rep", "reps"),
            _count(len(config.pools), "pool", "pools"),
            _count(len(config.rules), "rule", "rules"),
            _count(len(config.sla_policies), "SLA policy", "SLA policies"),
        ]
    )
    notifications = config.notifications
    if notifications.contacts or notifications.subscribers:
        counts += ", " + ", ".join(
            [
                _count(
                    len(notifications.contacts), "notification contact", "notification contacts"
                ),
                _count(len(notifications.subscribers), "subscriber", "subscribers"),
            ]
        )
    print(f"{args.file}: valid: {counts}; sha256 {content_hash(text)}")
    return 0


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _publish(args: argparse.Namespace) -> int:
    text = _read(args.file)
    _parse(args.file, text)
    if args.backtest is not None and not _backtest_accepted(args):
        print("not published")
        return 1
    by = args.by or _user()
    now_ms = time.time_ns() // 1_000_000
    result = publish_config(KafkaSettings(), text, published_by=by, now_ms=now_ms)
    record = result.record
    if result.changed:
        print(f"published version {record.version} (sha256 {record.content_hash}) by {by}")
    else:
        print(f"unchanged: version {record.version} already has this document")
    return 0


def _backtest_accepted(args: argparse.Namespace) -> bool:
    """Print the backtest of FILE over the last `--backtest` of history; whether to publish."""
    try:
        span_ms = parse_duration_ms(args.backtest)
    except ValueError as exc:
        raise CommandError(f"--backtest {args.backtest}: {exc}") from exc
    print(backtest_summary(KafkaSettings(), args.file, time.time_ns() // 1_000_000 - span_ms))
    if args.yes:
        return True
    try:
        answer = input(f"publish {args.file} as the next version? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in {"y", "yes"}


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # containers often run as a uid with no passwd entry
        return "unknown"


def _published() -> dict[int, RoutingConfigRecord]:
    return read_published(KafkaSettings())


def _header(record: RoutingConfigRecord) -> str:
    when = datetime.fromtimestamp(record.published_at_ms / 1000, tz=UTC)
    return (
        f"# version {record.version}, sha256 {record.content_hash}, published "
        f"{when.isoformat(timespec='seconds')} by {record.published_by or 'unknown'}"
    )


def _show(args: argparse.Namespace) -> int:
    published = _published()
    if not published:
        raise CommandError("no routing config published yet: run `leadrouter config publish FILE`")
    if args.history:
        for version in sorted(published):
            print(_header(published[version]).removeprefix("# "))
        return 0
    version = max(published) if args.version is None else args.version
    if version not in published:
        raise CommandError(f"no version {version}; kept versions: {sorted(published)}")
    document = published[version].document
    print(_header(published[version]))
    print(document, end="" if document.endswith("\n") else "\n")
    return 0


def _diff(args: argparse.Namespace) -> int:
    text = _read(args.file)
    new = _parse(args.file, text)
    published = _published()
    if not published:
        print(f"nothing published yet: publishing {args.file} would create version 1")
        return 0
    current = published[max(published)]
    if current.content_hash == content_hash(text):
        print(f"{args.file} is identical to version {current.version}: nothing would change")
        return 0
    try:
        old = parse_config_text(current.document)
    except ConfigInvalid as exc:
        raise CommandError(f"version {current.version} in force does not validate: {exc}") from exc
    changes = config_changes(old, new)
    print(f"{args.file} against version {current.version}:")
    for line in changes or ["no routing change (formatting or comments only)"]:
        print(f"  {line}")
    if args.text:
        sys.stdout.writelines(
            difflib.unified_diff(
                current.document.splitlines(keepends=True),
                text.splitlines(keepends=True),
                f"version {current.version}",
                str(args.file),
            )
        )
    return 0
