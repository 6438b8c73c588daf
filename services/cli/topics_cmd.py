"""`leadrouter topics create|check`: make every topic, and hold them to co-partitioning."""

from __future__ import annotations

import argparse

from services.cli.base import CommandError, Subparsers
from services.streaming.admin import co_partitioning_problems, create_topics, partition_counts
from services.streaming.settings import KafkaSettings


def register(subparsers: Subparsers) -> None:
    topics = subparsers.add_parser("topics", help="create and check leadrouter's topics")
    actions = topics.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create every topic (idempotent)")
    create.add_argument(
        "--partitions", type=int, default=4, help="partitions of each keyed topic (default 4)"
    )
    create.add_argument("--replication-factor", type=int, default=1)
    create.set_defaults(func=_create)
    check = actions.add_parser("check", help="verify every topic exists and is co-partitioned")
    check.set_defaults(func=_check)


def _create(args: argparse.Namespace) -> int:
    settings = KafkaSettings()
    results = create_topics(settings, args.partitions, args.replication_factor)
    for result in results:
        state = "created" if result.created else "exists"
        print(f"{state:8} {result.name}")
    return 0


def _check(args: argparse.Namespace) -> int:
    settings = KafkaSettings()
    problems = co_partitioning_problems(settings, partition_counts(settings))
    if problems:
        raise CommandError("; ".join(problems))
    print("topics ok: every topic exists and state topics are co-partitioned with their inputs")
    return 0
