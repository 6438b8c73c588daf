"""Routing config on Kafka: publishing versions to `routing.config` and following the newest.

Each published version is one record in the compacted, single-partition topic `routing.config`:
key the version number as text, value a `RoutingConfigRecord` (version, sha256 of the document,
the document as written, when and by whom). Versions count up from 1; publishing a document
whose hash equals the newest version's is a no-op, so a deploy pipeline can publish on every run.

Every service follows the topic through a `GlobalTable`, which the processing loop refreshes
between transactions only: `ActiveConfig.current()` therefore changes atomically between batches,
and every decision can record the version it used. A record whose document does not validate
(written by something other than `leadrouter config publish`) is logged with its problems and
skipped; the previous good version stays in force.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import cache

from confluent_kafka import KafkaException, Producer

from services.leads.config_errors import ConfigInvalid
from services.leads.events import RoutingConfigRecord
from services.leads.routing_config import VersionedConfig
from services.leads.topics import Topic
from services.router.config_document import content_hash, parse_config_text
from services.streaming.codec import AvroCodec
from services.streaming.errors import FatalError, TransientError
from services.streaming.records import Serde
from services.streaming.settings import KafkaSettings
from services.streaming.tables import GlobalTable

log = logging.getLogger(__name__)


@cache
def config_record_serde() -> Serde[RoutingConfigRecord]:
    return AvroCodec(RoutingConfigRecord).serde()


def config_table(settings: KafkaSettings) -> GlobalTable[RoutingConfigRecord]:
    return GlobalTable(settings, settings.topic(Topic.ROUTING_CONFIG), config_record_serde())


class ActiveConfig:
    """The newest valid version in a `routing.config` table, parsed once per version.

    Attach it before the table loads (the loop loads every processor table on start); it sees
    every record through `on_change`.
    """

    def __init__(self, table: GlobalTable[RoutingConfigRecord]) -> None:
        self.table = table
        self._active: VersionedConfig | None = None
        self.skipped: dict[int, str] = {}
        """Versions refused, with the reason: for logs, `config show` and tests."""
        table.on_change.append(self._changed)
        for record in table.values.values():  # a table that was loaded before we attached
            self._changed(str(record.version), record)

    def current(self) -> VersionedConfig:
        """The config in force; FatalError when none was ever published (nothing can route)."""
        if self._active is None:
            raise FatalError(
                f"no routing config in {self.table.topic}: publish one with "
                "`leadrouter config publish FILE` before starting the router"
            )
        return self._active

    def get(self) -> VersionedConfig | None:
        return self._active

    def _changed(self, _key: str, record: RoutingConfigRecord | None) -> None:
        if record is None or (self._active is not None and record.version <= self._active.version):
            return
        if content_hash(record.document) != record.content_hash:
            self._skip(record.version, "content_hash does not match the document")
            return
        try:
            config = parse_config_text(record.document)
        except ConfigInvalid as exc:
            self._skip(record.version, str(exc))
            return
        self._active = VersionedConfig(record.version, record.content_hash, config)
        log.info("routing config version %d (%s) in force", record.version, record.content_hash)

    def _skip(self, version: int, reason: str) -> None:
        self.skipped[version] = reason
        log.error("routing config version %d skipped, previous version stays: %s", version, reason)


def read_published(
    settings: KafkaSettings, patience_s: float = 15.0
) -> dict[int, RoutingConfigRecord]:
    """Every version still in `routing.config`, by version number.

    Retries for up to `patience_s`: right after `topics create` the partition may have no
    leader yet, and a setup script that creates topics then publishes should not fail on that.
    """
    deadline = time.monotonic() + patience_s
    while True:
        table = config_table(settings)
        try:
            table.load()
            return {record.version: record for record in table.values.values()}
        except TransientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
        finally:
            table.close()


@dataclass(frozen=True, slots=True)
class Published:
    record: RoutingConfigRecord
    changed: bool
    """False when the newest version already had this exact document."""


def publish_config(
    settings: KafkaSettings, text: str, *, published_by: str, now_ms: int
) -> Published:
    """Validate `text` and write it as the next version; raises ConfigInvalid, TransientError.

    Two publishers racing can pick the same version number; the later write wins that key and
    both documents were valid, so followers converge on it. Publish from one place (CI) to avoid it.
    """
    parse_config_text(text)
    published = read_published(settings)
    digest = content_hash(text)
    newest = published[max(published)] if published else None
    if newest is not None and newest.content_hash == digest:
        return Published(newest, changed=False)
    record = RoutingConfigRecord(
        version=(newest.version + 1) if newest else 1,
        content_hash=digest,
        document=text,
        published_at_ms=now_ms,
        published_by=published_by,
    )
    _produce(settings, record)
    return Published(record, changed=True)


def _produce(settings: KafkaSettings, record: RoutingConfigRecord) -> None:
    failures: list[str] = []

    def delivered(error: object, _message: object) -> None:
        if error is not None:
            failures.append(str(error))

    producer = Producer(settings.producer())
    try:
        producer.produce(
            settings.topic(Topic.ROUTING_CONFIG),
            key=str(record.version).encode(),
            value=config_record_serde().encode(record),
            on_delivery=delivered,
        )
        remaining = producer.flush(30)
    except KafkaException as exc:
        raise TransientError(f"publishing routing config: {exc}") from exc
    if remaining or failures:
        reason = "; ".join(failures) or "not acknowledged within 30 s"
        raise TransientError(f"routing config version {record.version} not written: {reason}")
