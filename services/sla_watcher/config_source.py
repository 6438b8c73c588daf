"""The newest valid routing config, followed from the `routing.config` global table.

The table holds every published version (key: the version number); the highest one wins. A
document that does not parse or validate is logged with every problem and skipped: the watcher
keeps timing with the last good version rather than stopping (`leadrouter config publish`
refuses bad documents, so this is a second line of defence).
"""

from __future__ import annotations

import logging

import yaml

from services.leads.config_errors import ConfigInvalid
from services.leads.events import RoutingConfigRecord
from services.leads.routing_config import RoutingConfig, parse_routing_config
from services.streaming.codec import AvroCodec
from services.streaming.records import Serde
from services.streaming.settings import KafkaSettings
from services.streaming.tables import GlobalTable

log = logging.getLogger(__name__)


def config_table(settings: KafkaSettings, topic: str) -> GlobalTable[RoutingConfigRecord]:
    codec = AvroCodec(RoutingConfigRecord)
    return GlobalTable(settings, topic, Serde(encode=codec.encode, decode=codec.decode))


class LatestConfig:
    def __init__(self, table: GlobalTable[RoutingConfigRecord]) -> None:
        self.version = 0
        self._config: RoutingConfig | None = None
        table.on_change.append(self._changed)

    def current(self) -> RoutingConfig | None:
        return self._config

    def _changed(self, _key: str, record: RoutingConfigRecord | None) -> None:
        if record is None or record.version <= self.version:
            return
        try:
            config = parse_routing_config(yaml.safe_load(record.document))
        except (ConfigInvalid, yaml.YAMLError) as exc:
            log.error("routing config version %d skipped: %s", record.version, exc)
            return
        self.version, self._config = record.version, config
        log.info("routing config version %d in use", record.version)
