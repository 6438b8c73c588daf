"""A real single-node Apache Kafka (KRaft, broker and controller in one JVM) on loopback.

The jars come from Maven Central through `deploy/local-kafka/pom.xml`, copied once into
`deploy/local-kafka/.cache/libs`. `LocalBroker.start()` writes a server config for one node
(transactions allowed, topics never auto-created), formats the storage on first use, starts the
JVM in its own session, and returns once the broker answers a metadata request. `stop()` sends
SIGTERM and SIGKILLs after a bound. `python -m services.streaming.local_broker up|down|status`
is what `make kafka-up` and `make kafka-down` run.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka.admin import AdminClient

from services.streaming.broker_config import LOG4J2_PROPERTIES, cluster_id, server_properties
from services.streaming.errors import FatalError

REPO_ROOT = Path(__file__).resolve().parents[2]
KAFKA_DIR = REPO_ROOT / "deploy" / "local-kafka"
LIBS_DIR = KAFKA_DIR / ".cache" / "libs"
RUN_ROOT = REPO_ROOT / ".run" / "kafka"


class BrokerError(FatalError):
    """The local broker could not be set up, started or reached; the message says why."""


def free_port_pair() -> int:
    """A loopback port whose successor is free too (broker and controller listeners).

    Drawn below the kernel's ephemeral range: a port the kernel hands out (`bind` to 0) is also
    one it hands any outgoing connection as its local port, so a broker stopped and started
    again on it could find it taken by a client ("Address already in use")."""
    first_ephemeral = _first_ephemeral_port()
    for _ in range(200):
        port = random.randrange(10_000, first_ephemeral - 1)
        with socket.socket() as probe, socket.socket() as second:
            try:
                probe.bind(("127.0.0.1", port))
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two adjacent free ports on loopback")


def _first_ephemeral_port() -> int:
    """The lowest port of the kernel's ephemeral range (Linux), or IANA's 49152 elsewhere."""
    try:
        low = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0]
    except (OSError, IndexError):
        return 49_152
    return max(int(low), 10_002)


def ensure_jars() -> Path:
    """Fetch Kafka's jars from Maven Central on first use; later calls return at once."""
    if LIBS_DIR.is_dir() and any(LIBS_DIR.glob("kafka_2.13-*.jar")):
        return LIBS_DIR
    if shutil.which("mvn") is None or shutil.which("java") is None:
        raise BrokerError("java and mvn are needed for the local broker: run `make setup` first")
    partial = LIBS_DIR.with_name("libs.partial")
    shutil.rmtree(partial, ignore_errors=True)
    command = [
        "mvn",
        "-q",
        "-B",
        "-f",
        str(KAFKA_DIR / "pom.xml"),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={partial}",
        "-DincludeScope=runtime",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BrokerError(f"fetching Kafka jars failed:\n{result.stdout}{result.stderr}")
    partial.rename(LIBS_DIR)  # whole or nothing: a half download is never mistaken for jars
    return LIBS_DIR


@dataclass
class LocalBroker:
    port: int = 9092
    controller_port: int | None = None
    run_dir: Path | None = None
    heap: str = "768m"
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.controller_port = self.controller_port or self.port + 1
        self.run_dir = self.run_dir or RUN_ROOT / str(self.port)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def _dir(self) -> Path:
        assert self.run_dir is not None  # set in __post_init__; narrows the type for mypy
        return self.run_dir

    @property
    def pid_file(self) -> Path:
        return self._dir / "broker.pid"

    @property
    def log_file(self) -> Path:
        return self._dir / "logs" / "server.log"

    def running_pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text())
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
            return None
        return pid

    def start(self, timeout_s: float = 90.0) -> str:
        """Start the broker (or find it running) and return its bootstrap address."""
        if self.running_pid() is not None:
            self.wait_ready(timeout_s)
            return self.bootstrap
        libs = ensure_jars()
        data_dir, log_dir = self._dir / "data", self._dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        config = self._dir / "server.properties"
        config.write_text(server_properties(self.port, self.controller_port or 0, data_dir))
        log_config = self._dir / "log4j2.properties"
        log_config.write_text(LOG4J2_PROPERTIES.format(log_dir=log_dir))
        classpath = f"{libs}/*"
        java = ["java", f"-Xmx{self.heap}", "-Xms256m", "-XX:+UseG1GC", "-Djava.awt.headless=true"]
        java += [f"-Dlog4j2.configurationFile={log_config}", "-cp", classpath]
        if not (data_dir / "meta.properties").exists():
            fmt = [*java, "kafka.tools.StorageTool", "format", "--standalone"]
            result = subprocess.run(
                [*fmt, f"--cluster-id={cluster_id()}", "-c", str(config)],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise BrokerError(
                    f"formatting Kafka storage failed:\n{result.stdout}{result.stderr}"
                )
        with (log_dir / "stdout.log").open("ab") as out:
            process = subprocess.Popen(
                [*java, "kafka.Kafka", str(config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C in a terminal must not reach the JVM first
            )
        self._process = process  # kept so the JVM is reaped (and waited for) by its starter
        self.pid_file.write_text(str(process.pid))
        try:
            self.wait_ready(timeout_s)
        except BrokerError:
            self.stop()
            raise
        return self.bootstrap

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        admin = AdminClient(
            {"bootstrap.servers": self.bootstrap, "socket.timeout.ms": 2000, "log_level": 0}
        )
        while time.monotonic() < deadline:
            if self.running_pid() is None:
                raise BrokerError(f"the broker exited during start-up; see {self.log_file}")
            try:
                admin.list_topics(timeout=2)
                return
            except Exception:
                time.sleep(0.5)
        raise BrokerError(
            f"the broker did not answer within {timeout_s:.0f} s; see {self.log_file}"
        )

    def stop(self, grace_s: float = 20.0) -> None:
        """SIGTERM (a controlled shutdown), then SIGKILL after `grace_s`; no process is left."""
        pid = self.running_pid()
        if pid is not None:
            os.killpg(pid, signal.SIGTERM)
            deadline = time.monotonic() + grace_s
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.2)
            if _alive(pid):
                os.killpg(pid, signal.SIGKILL)
                while _alive(pid):
                    time.sleep(0.05)
        if self._process is not None:
            self._process.wait()
            self._process = None
        self.pid_file.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    except ChildProcessError:
        pass  # not our child (started by an earlier command): fall back to a signal probe
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return _state(pid) != "Z"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return "Z"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a local single-node Kafka broker.")
    parser.add_argument("action", choices=["up", "down", "status", "fetch"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("KAFKA_PORT", "9092")))
    args = parser.parse_args(argv)
    broker = LocalBroker(port=args.port)
    try:
        if args.action == "fetch":
            print(ensure_jars())
        elif args.action == "up":
            print(broker.start())
        elif args.action == "down":
            broker.stop()
            print(f"stopped the broker on {broker.bootstrap}")
        else:
            pid = broker.running_pid()
            print(f"running on {broker.bootstrap} (pid {pid})" if pid else "not running")
            return 0 if pid else 1
    except BrokerError as exc:
        print(f"local kafka: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
