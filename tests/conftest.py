"""Shared fixtures. `kafka_bootstrap` finds a real broker, in this order:

1. `KAFKA_BOOTSTRAP_SERVERS`, when set;
2. a testcontainers Kafka, when a Docker engine answers a ping (not merely when the CLI exists);
3. the local broker from Maven Central's jars (services/streaming/local_broker.py), on a free
   port with its own data directory: one for the whole run, shared by every xdist worker
   (`make test` runs the suite on several), stopped when the run ends.

Under CI (`CI=true`) not getting a broker fails the run: integration tests never skip there.
"""

from __future__ import annotations

import fcntl
import gc
import os
import shutil
import socket
import tempfile
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
def kafka_bootstrap() -> Iterator[str]:
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
        bootstrap = _shared_local_broker()
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"no Kafka broker for the integration tests: {exc}")
        pytest.skip(f"no Kafka broker: {exc}")
    yield bootstrap
    # Kafka clients still waiting on the garbage collector (kept alive by a reference cycle)
    # would otherwise outlive the broker and log connection failures at exit.
    gc.collect()


# One local broker for the whole run, however many xdist workers share it: the first worker
# that needs it starts it (under a lock, in a directory the controller made), the others read
# its address, and the controller stops it when every worker is done. Every test works under
# a topic prefix of its own, so sharing a broker is what a single-process run did too.
_SHARED_DIR = "LEADROUTER_TEST_SHARED_DIR"
_STARTED: list[object] = []


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller, or a run without xdist
        os.environ[_SHARED_DIR] = tempfile.mkdtemp(prefix="leadrouter-tests-")


def pytest_unconfigure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return
    shared = os.environ.pop(_SHARED_DIR, None)
    if shared is None:
        return
    from services.streaming.local_broker import LocalBroker

    LocalBroker(run_dir=Path(shared) / "kafka").stop()
    shutil.rmtree(shared, ignore_errors=True)


def _shared_local_broker() -> str:
    """The run's local broker (services/streaming/local_broker.py), started on first use."""
    from services.streaming.local_broker import LocalBroker, free_port_pair

    shared = Path(os.environ[_SHARED_DIR])
    address = shared / "kafka.bootstrap"
    with (shared / "kafka.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if address.exists():
            return address.read_text()
        broker = LocalBroker(port=free_port_pair(), run_dir=shared / "kafka")
        bootstrap = broker.start()
        _STARTED.append(broker)  # its Popen must outlive every test: its finalizer would warn
        address.write_text(bootstrap)
        return bootstrap


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
