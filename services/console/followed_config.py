"""The routing config in force, followed live, as `leadrouter top` needs it: member weights per
pool for the deviation column (a weighted pool's fair share is not an equal share) and a label
naming the version."""

from __future__ import annotations

from services.console.top import Weights
from services.router.config_source import ActiveConfig, config_table
from services.streaming.errors import TransientError
from services.streaming.settings import KafkaSettings


class FollowedConfig:
    def __init__(self, settings: KafkaSettings) -> None:
        self.table = config_table(settings)
        self.active = ActiveConfig(self.table)
        self.loaded = False
        try:
            self.table.load()
            self.loaded = True
        except TransientError:
            pass  # no config topic yet: equal weights until one appears on a later start

    def label(self) -> str:
        """`config v3 (8d1092df)`, or a note that none is published."""
        versioned = self.active.get()
        if versioned is None:
            return "no routing config published"
        return f"config v{versioned.version} ({versioned.content_hash[:8]})"

    def weights(self) -> Weights:
        """Weights of the newest valid version; empty (equal shares) when none is published."""
        if self.loaded:
            self.table.refresh()
        versioned = self.active.get()
        if versioned is None:
            return {}
        return {
            pool.id: {member.rep: float(member.weight) for member in pool.members}
            for pool in versioned.config.pools
        }

    def close(self) -> None:
        self.table.close()
