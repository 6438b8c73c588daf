"""A small stateful processor on the transactional loop, run as its own process by the tests.

For each input record it adds one to a per-key count kept in a state store and emits
`<input value>|<count>`. If the loop ever handled a record twice or lost one, the output would
show a value twice or missing, and a key's counts would skip or repeat.

    python -m tests.integration.streaming.counting_app PREFIX INSTANCE
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator

from services.streaming.loop import LoopSettings, Processor, TransactionalLoop
from services.streaming.records import InputRecord, OutputRecord, Serde
from services.streaming.settings import KafkaSettings
from services.streaming.state import StateStore

INPUT, OUTPUT, STATE = "count.in", "count.out", "count.state"
COUNTS = Serde[int](encode=lambda n: str(n).encode(), decode=int)


def build(settings: KafkaSettings) -> Processor:
    store = StateStore(settings.topic(STATE), COUNTS)
    output = settings.topic(OUTPUT)

    def handle(record: InputRecord) -> Iterator[OutputRecord]:
        key = (record.key or b"").decode()
        count = (store.get(record.partition, key) or 0) + 1
        store.put(record.partition, key, count)
        yield OutputRecord(output, record.key, (record.value or b"") + f"|{count}".encode())

    return Processor(
        app_id=settings.topic("counting"),
        inputs=[settings.topic(INPUT)],
        handle=handle,
        stores=[store],
    )


def main() -> None:
    prefix, instance = sys.argv[1], int(sys.argv[2])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = KafkaSettings(topic_prefix=prefix)
    loop = TransactionalLoop(
        build(settings), settings, LoopSettings(instance=instance, session_timeout_ms=6000)
    )
    loop.serve()


if __name__ == "__main__":
    main()
