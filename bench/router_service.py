"""The router under test: its real service processes, or the same processors at-least-once.

`exactly_once` runs `python -m services.router --instance N`, exactly what an operator runs
(or, split, its two stages as two processes: `--stage triage` and `--stage assign`).
`at_least_once` runs the same processors on `bench.router_at_least_once` (no transactions), so
the two differ only in the delivery guarantee.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from subprocess import Popen

from bench.context import Run
from bench.ingest_server import free_port
from services.router.config_source import publish_config
from services.streaming.errors import TransientError
from services.streaming.settings import KafkaSettings

CONFIG = Path(__file__).with_name("routing.bench.yaml")
GUARANTEES = {
    "exactly_once": "services.router",
    "at_least_once": "bench.router_at_least_once",
}


def publish_bench_config(settings: KafkaSettings, timeout_s: float = 30.0) -> int:
    """Publish the bench config, retrying while a just-created topic finds its leader."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            published = publish_config(
                settings, CONFIG.read_text(), published_by="bench", now_ms=int(time.time() * 1000)
            )
            return published.record.version
        except TransientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def process_names(label: str, instances: int, guarantee: str, split: bool = False) -> list[str]:
    """The log names of the processes `router_service` starts, in the order it starts them."""
    stages = ("-triage", "-assign") if split else ("",)
    return [
        f"{label}-router-{guarantee}-{instances}x-{instance}{stage}"
        for instance in range(instances)
        for stage in stages
    ]


@contextmanager
def router_service(
    run: Run,
    settings: KafkaSettings,
    *,
    label: str,
    instances: int = 1,
    guarantee: str = "exactly_once",
    split: bool = False,
) -> Iterator[list[Popen[bytes]]]:
    """Start `instances` router processes on `settings`' topics; stop them (SIGTERM) on exit.

    `split`: each instance as two processes, `--stage triage` and `--stage assign`, as a
    deployment that gives each stage its own interpreter (and core) would run it.
    """
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": settings.topic_prefix,
    }
    processes: list[Popen[bytes]] = []
    names = iter(process_names(label, instances, guarantee, split))
    with ExitStack() as stack:
        for instance in range(instances):
            for stage in ("triage", "assign") if split else (None,):
                args = ["--instance", str(instance)]
                args += ["--stage", stage] if stage is not None else []
                instance_env = {**env, "ROUTER_METRICS_PORT": str(free_port())}
                process = stack.enter_context(
                    run.subject(next(names), GUARANTEES[guarantee], args, instance_env)
                )
                processes.append(process)
        yield processes


def last_error(log_path: Path) -> str:
    """The last ERROR or FATAL line of a service log, for a note about why it stopped."""
    lines = log_path.read_text(errors="replace").splitlines() if log_path.exists() else []
    wanted = [line for line in lines if " ERROR " in line or "FATAL" in line or "Fatal" in line]
    return (wanted or lines or ["(no log)"])[-1][:300]
