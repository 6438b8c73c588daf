"""Shared fixtures. `kafka_bootstrap` finds a real broker, in this order:

1. `KAFKA_BOOTSTRAP_SERVERS`, when set;
2. a testcontainers Kafka, when a Docker engine answers a ping (not merely when the CLI exists);
3. the local broker from Maven Central's jars (services/streaming/local_broker.py), on a free
   port with its own data directory, stopped when the session ends.

Under CI (`CI=true`) not getting a broker fails the run: integration tests never skip there.
"""

from __future__ import annotations

import gc
import os
import socket
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from services.streaming.admin import create_topics
from services.streaming.settings import KafkaSettings

# Property tests assert properties, never speed: hypothesis's per-example deadline is a timing
# assertion that fails on a loaded machine (the suite shares 2 cores with a broker).
settings.register_profile("leadrouter", deadline=None)
settings.load_profile("leadrouter")


def _docker_answers() -> bool:
    """True only when a Docker engine answers a ping (the CLI alone is not enough)."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if host.startswith("unix://"):
        with socket.socket(socket.AF_UNIX) as probe:
            probe.settimeout(2)
            try:
                probe.connect(host.removeprefix("unix://"))
            except OSError:
                return False  # nothing listens: no engine, and no need to ask docker-py
    try:
        import docker  # type: ignore[import-untyped]
    except ImportError:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # docker-py leaks a socket on failure
        try:
            client = docker.from_env(timeout=3)
            try:
                client.ping()
            finally:
                client.close()
        except Exception:  # any failure means "no engine here"
            return False
        finally:
            gc.collect()  # finalize whatever it leaked while the filter is on
    return True


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    try:
        if _docker_answers():
            from testcontainers.kafka import KafkaContainer

            with KafkaContainer().with_kraft() as container:
                yield container.get_bootstrap_server()
            return
        from services.streaming.local_broker import LocalBroker, free_port_pair

        run_dir: Path = tmp_path_factory.mktemp("kafka")
        broker = LocalBroker(port=free_port_pair(), run_dir=run_dir)
        bootstrap = broker.start()
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"no Kafka broker for the integration tests: {exc}")
        pytest.skip(f"no Kafka broker: {exc}")
    try:
        yield bootstrap
    finally:
        # Kafka clients still waiting on the garbage collector (kept alive by a reference
        # cycle) would otherwise outlive the broker and log connection failures at exit.
        gc.collect()
        broker.stop()


@pytest.fixture
def unique() -> str:
    """A short unique token for topic prefixes, group ids and transactional ids."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def kafka_settings(kafka_bootstrap: str, unique: str) -> KafkaSettings:
    """Settings whose every topic name carries a prefix of this test's own."""
    return KafkaSettings(bootstrap_servers=kafka_bootstrap, topic_prefix=f"t{unique}.")


@pytest.fixture
def topics(kafka_settings: KafkaSettings) -> KafkaSettings:
    """Every leadrouter topic created, 4 partitions each, under this test's prefix."""
    create_topics(kafka_settings, partitions=4)
    return kafka_settings
