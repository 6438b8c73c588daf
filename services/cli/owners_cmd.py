"""`leadrouter owners import FILE`: the owners a team had before leadrouter, into `router.owners`.

Reads a CRM export (CSV with a header, or JSON Lines: email, domain, phone, rep, optional pool;
see owner_rows.py), checks every row against the routing config in force, and writes one
`OwnerFact` per subject, as router/assign would, so triage's continuity keeps those owners.

Idempotent: a subject whose fact already names the same rep and pool is left alone, so running
the same file again writes nothing. A subject the router has decided since (a fact that did not
come from an import) is kept: a live decision is newer than any export. Any bad row refuses the
whole file, each named with its line, unless `--skip-bad` imports the good ones.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from confluent_kafka import Producer

from services.cli.base import CommandError, Subparsers
from services.cli.owner_rows import IMPORT_PREFIX, BadRow, facts_of, rows
from services.leads.routing_config import RoutingConfig
from services.leads.topics import Topic
from services.router.config_document import parse_config_text
from services.router.config_source import read_published
from services.router.owner_facts import owner_fact_records, owner_fact_serde
from services.router.ownership import OwnerFact
from services.streaming.settings import KafkaSettings
from services.streaming.tables import GlobalTable


def register(subparsers: Subparsers) -> None:
    owners = subparsers.add_parser("owners", help="import the owners a CRM already has")
    actions = owners.add_subparsers(dest="action", required=True)
    load = actions.add_parser(
        "import",
        help="write owners from a CSV or JSON Lines export into router.owners",
        description="Each row: email, domain, phone (any of them), rep, and optionally pool "
        "(default: the rep's first pool). Checked against the routing config in force; bad "
        "rows are named by line and nothing is written unless --skip-bad.",
    )
    load.add_argument("file", type=Path)
    load.add_argument("--format", choices=("csv", "jsonl"), help="default: from the suffix")
    load.add_argument("--source", help="recorded with each owner (default: the file's name)")
    load.add_argument("--skip-bad", action="store_true", help="import the good rows anyway")
    load.set_defaults(func=_import)


def _import(args: argparse.Namespace) -> int:
    path: Path = args.file
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from exc
    jsonl = (args.format or path.suffix.lstrip(".").lower()) in ("jsonl", "ndjson")
    settings = KafkaSettings()
    config = _config_in_force(settings)
    source, now_ms = args.source or path.name, time.time_ns() // 1_000_000
    facts: dict[str, OwnerFact] = {}
    bad: list[BadRow] = []
    for line, row in rows(text, jsonl):
        found = row if isinstance(row, BadRow) else facts_of(row, line, config, source, now_ms)
        if isinstance(found, BadRow):
            bad.append(found)
        else:
            facts.update((fact.subject, fact) for fact in found)  # a later row wins
    for problem in bad:
        print(f"{path}:{problem}", file=sys.stderr)
    if bad and not args.skip_bad:
        raise CommandError(
            f"{path}: {len(bad)} bad row(s), nothing imported (--skip-bad imports the others)"
        )
    current = _current_owners(settings)
    new, unchanged, kept = [], 0, 0
    for subject, fact in sorted(facts.items()):
        before = current.get(subject)
        if before is not None and not before.lead_id.startswith(IMPORT_PREFIX):
            kept += 1
        elif before is not None and (before.rep_id, before.pool_id) == (fact.rep_id, fact.pool_id):
            unchanged += 1
        else:
            new.append(fact)
    _write(settings, new)
    print(
        f"{path}: {len(new)} owner(s) written, {unchanged} unchanged, {kept} kept (the router "
        f"decided them since), {len(bad)} bad row(s) skipped"
    )
    return 0


def _config_in_force(settings: KafkaSettings) -> RoutingConfig:
    published = read_published(settings)
    if not published:
        raise CommandError("no routing config is published: `leadrouter config publish` first")
    return parse_config_text(published[max(published)].document)


def _current_owners(settings: KafkaSettings) -> dict[str, OwnerFact]:
    table = GlobalTable(settings, settings.topic(Topic.OWNERS), owner_fact_serde())
    try:
        table.load()
        return dict(table.values)
    finally:
        table.close()


def _write(settings: KafkaSettings, facts: list[OwnerFact]) -> None:
    if not facts:
        return
    producer = Producer(settings.producer())
    failures: list[str] = []

    def delivered(error: object, _message: object) -> None:
        if error is not None:
            failures.append(str(error))

    for record in owner_fact_records(settings.topic(Topic.OWNERS), tuple(facts)):
        producer.produce(record.topic, key=record.key, value=record.value, on_delivery=delivered)
    if producer.flush(30) != 0 or failures:
        reason = failures[0] if failures else "no acknowledgement within 30 s"
        raise CommandError(f"not every owner was written ({reason}); run again: it is idempotent")
