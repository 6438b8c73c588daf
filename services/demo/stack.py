"""The whole of leadrouter on one machine: local broker, topics, routing config, four services.

`Stack.start()` brings it up in order and returns once every service answers; `Stack.stop()`
takes down exactly what it started (a broker it found running is left alone) and returns only
when those processes are gone. Each service runs in its own session, so a Ctrl-C in the
terminal reaches the CLI alone, which then stops the services in order; their output goes to
`.run/logs/<service>.log`. What `leadrouter up` started is recorded in `.run/stack.json`, so
`leadrouter down` can stop it from another shell.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from confluent_kafka.admin import AdminClient

from services.demo.ports import Ports
from services.demo.stack_record import StackRecord, signal_group
from services.streaming.admin import create_topics
from services.streaming.errors import FatalError, TransientError
from services.streaming.local_broker import REPO_ROOT, BrokerError, LocalBroker
from services.streaming.settings import KafkaSettings

RUN_DIR = REPO_ROOT / ".run"
EXAMPLE_CONFIG = REPO_ROOT / "deploy" / "config" / "routing.example.yaml"


class StackError(FatalError):
    """A part of the stack did not come up; the message names it and where its log is."""


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    name: str
    command: tuple[str, ...]
    ready_url: str


def broker_answers(bootstrap: str, timeout_s: float = 2.0) -> bool:
    admin = AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 1000, "log_level": 0})
    try:
        admin.list_topics(timeout=timeout_s)
    except Exception:
        return False
    return True


class Stack:
    def __init__(
        self,
        ports: Ports,
        *,
        config_path: Path = EXAMPLE_CONFIG,
        external_bootstrap: str | None = None,
        extra_env: Mapping[str, str] | None = None,
        run_dir: Path = RUN_DIR,
    ) -> None:
        self.ports = ports
        self.config_path = config_path
        self.external_bootstrap = external_bootstrap
        self.extra_env = dict(extra_env or {})
        self.run_dir = run_dir
        self.log_dir = run_dir / "logs"
        self.broker: LocalBroker | None = None
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.bootstrap = external_bootstrap or f"127.0.0.1:{ports.kafka}"
        self.console_db = run_dir / "console.sqlite3"
        """Rebuilt on every start: the broker it was projected from may be another one now."""

    def specs(self) -> tuple[ServiceSpec, ...]:
        python = sys.executable
        return (
            ServiceSpec(
                "ingest",
                (python, "-m", "services.ingest"),
                f"http://127.0.0.1:{self.ports.http}/readyz",
            ),
            ServiceSpec(
                "router",
                (python, "-m", "services.router", "--instance", "0"),
                f"http://127.0.0.1:{self.ports.router_metrics}/metrics",
            ),
            ServiceSpec(
                "sla_watcher",
                (python, "-m", "services.sla_watcher", "--instance", "0"),
                f"http://127.0.0.1:{self.ports.sla_metrics}/metrics",
            ),
            ServiceSpec(
                "notifier",
                (python, "-m", "services.notifier", "--instance", "0"),
                f"http://127.0.0.1:{self.ports.notifier_metrics}/metrics",
            ),
            ServiceSpec(
                "console",
                (python, "-m", "services.console"),
                f"http://127.0.0.1:{self.ports.console_metrics}/readyz",
            ),
        )

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            **self.ports.service_env(),
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "LEADROUTER_CONFIG": str(self.config_path),
            "CONSOLE_DB": str(self.console_db),
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }

    def settings(self) -> KafkaSettings:
        """The services' view of Kafka: same broker, same topic prefix."""
        prefix = self.env().get("KAFKA_TOPIC_PREFIX", "")
        return KafkaSettings(bootstrap_servers=self.bootstrap, topic_prefix=prefix)

    def start(self, say: Callable[[str], None] = print, timeout_s: float = 90.0) -> None:
        """Broker, topics, config, services; raises StackError (after stopping) on failure."""
        try:
            self._start_broker(say)
            settings = self.settings()
            create_topics(settings, partitions=4)
            self._publish_config(settings)
            say(f"published the routing config {self.config_path.name}")
            self.log_dir.mkdir(parents=True, exist_ok=True)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.console_db}{suffix}").unlink(missing_ok=True)
            for spec in self.specs():
                self._spawn(spec)
            self._wait_ready(timeout_s)
            say("ingest, router, sla_watcher, notifier and console are up")
        except (BrokerError, TransientError, StackError) as exc:
            self.stop()
            raise StackError(str(exc)) from exc

    def _start_broker(self, say: Callable[[str], None]) -> None:
        if self.external_bootstrap or broker_answers(self.bootstrap):
            say(f"using the broker at {self.bootstrap}")
            return
        self.broker = LocalBroker(
            port=self.ports.kafka, run_dir=self.run_dir / "kafka" / str(self.ports.kafka)
        )
        say(f"starting a local Kafka broker on {self.bootstrap} (logs: {self.broker.log_file})")
        self.broker.start()
        say(f"kafka is up at {self.bootstrap}")

    def _publish_config(self, settings: KafkaSettings) -> None:
        command = [sys.executable, "-m", "services.cli", "config", "publish", str(self.config_path)]
        result = subprocess.run(
            command, env=self.env(), capture_output=True, text=True, timeout=60, check=False
        )
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise StackError(
                f"publishing {self.config_path.name} to {settings.topic('routing.config')} "
                f"failed: {detail[-1] if detail else f'exit {result.returncode}'}"
            )

    def _spawn(self, spec: ServiceSpec) -> None:
        log = (self.log_dir / f"{spec.name}.log").open("ab")
        try:
            self.processes[spec.name] = subprocess.Popen(
                spec.command,
                env=self.env(),
                cwd=REPO_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the CLI, which stops us in order
            )
        finally:
            log.close()

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        waiting = {spec.name: spec for spec in self.specs()}
        with httpx.Client(timeout=1.0) as client:
            while waiting:
                for name, spec in list(waiting.items()):
                    code = self.processes[name].poll()
                    if code is not None:
                        raise StackError(
                            f"{name} exited with {code} while starting; see {self.log_path(name)}"
                        )
                    try:
                        if client.get(spec.ready_url).status_code == 200:
                            del waiting[name]
                    except httpx.HTTPError:
                        pass
                if waiting and time.monotonic() > deadline:
                    names = ", ".join(sorted(waiting))
                    raise StackError(
                        f"{names} not ready within {timeout_s:.0f} s; see {self.log_dir}"
                    )
                if waiting:
                    time.sleep(0.3)

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def exited(self) -> dict[str, int]:
        """Services that have stopped on their own, with their exit codes."""
        return {n: p.returncode for n, p in self.processes.items() if p.poll() is not None}

    def stop(self, grace_s: float = 15.0) -> None:
        """SIGTERM every service, SIGKILL what is left after `grace_s`, then our broker."""
        for process in self.processes.values():
            signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                signal_group(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()
        if self.broker is not None:
            self.broker.stop()
            self.broker = None

    def record(self) -> StackRecord:
        return StackRecord(
            bootstrap=self.bootstrap,
            broker_port=self.ports.kafka if self.broker is not None else None,
            broker_dir=str(self.broker.run_dir) if self.broker is not None else None,
            services={name: p.pid for name, p in self.processes.items()},
        )

    def save(self) -> Path:
        path = self.run_dir / "stack.json"
        path.write_text(json.dumps(asdict(self.record()), indent=2))
        return path
