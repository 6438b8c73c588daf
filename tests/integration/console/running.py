"""A console wired as `leadrouter-console` wires it, on a test's topics and SQLite file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    Message,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient
from prometheus_client import CollectorRegistry
from pydantic import BaseModel
from starlette.applications import Starlette

from services.console.actions import ActionWriter
from services.console.app import console_app
from services.console.auth import Gate
from services.console.projection import Projection, connect
from services.console.service import ConsoleService
from services.console.settings import ConsoleSettings, Role, TokenEntry
from services.console.tokens import token_hash
from services.console.web_metrics import ConsoleMetrics
from services.ingest.doors import HttpDoor
from services.leads.topics import Topic
from services.streaming.admin import end_offsets
from services.streaming.codec import AvroCodec
from services.streaming.records import SystemClock
from services.streaming.settings import KafkaSettings
from tests.e2e.processes import free_ports

TOKENS = {role: f"lrc_test_{role.value}_token" for role in Role}
M = TypeVar("M", bound=BaseModel)
NAMES = {Role.VIEWER: "vera", Role.OPERATOR: "olga", Role.ADMIN: "adam"}


@dataclass
class Console:
    app: Starlette
    projection: Projection
    registry: CollectorRegistry
    writer: ActionWriter
    server: HttpDoor
    clients: list[httpx.Client] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def client(self, **headers: str) -> httpx.Client:
        """A client closed with the console."""
        client = httpx.Client(base_url=self.url, headers=headers, timeout=30)
        self.clients.append(client)
        return client

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.server.stop()
        self.writer.close()
        self.projection.db.close()


def console_settings(db: Path) -> ConsoleSettings:
    tokens = [TokenEntry(name=NAMES[r], role=r, sha256=token_hash(t)) for r, t in TOKENS.items()]
    return ConsoleSettings(db=str(db), tokens=tokens, session_secret="test-session-secret")


def build_console(kafka: KafkaSettings, db: Path) -> Console:
    settings = console_settings(db)
    registry, clock = CollectorRegistry(), SystemClock()
    metrics = ConsoleMetrics.create(registry)
    writer = ActionWriter(kafka, instance=0)
    projection = Projection(connect(db))
    service = ConsoleService(connect(db), writer, kafka, metrics, clock)
    app = console_app(service, Gate(settings, metrics, clock))
    [port] = free_ports(1)
    server = HttpDoor(app, "127.0.0.1", port)
    server.start()
    return Console(app, projection, registry, writer, server)


def written(kafka: KafkaSettings) -> int:
    """Committed records on routing.requests, reps.presence and admin.audit together."""
    admin = AdminClient(kafka.admin())
    names = [kafka.topic(t) for t in (Topic.ROUTING_REQUESTS, Topic.REPS_PRESENCE,
                                      Topic.ADMIN_AUDIT)]  # fmt: skip
    metadata = admin.list_topics(timeout=10)
    asked = [TopicPartition(name, p) for name in names for p in metadata.topics[name].partitions]
    return sum(end_offsets(kafka, asked).values())


def read_all(kafka: KafkaSettings, topic: Topic, model: type[M]) -> list[M]:
    """Every committed record of `topic` written so far, decoded, partition by partition."""
    codec = AvroCodec(model)
    return [codec.decode(m.value()) for m in read_messages(kafka, topic)]


def read_messages(kafka: KafkaSettings, topic: Topic) -> list[Message]:
    """Every committed record of `topic` written so far, as read, partition by partition."""
    admin = AdminClient(kafka.admin())
    name = kafka.topic(topic)
    partitions = admin.list_topics(timeout=10).topics[name].partitions
    asked = [TopicPartition(name, p) for p in partitions]
    ends = {tp.partition: end for tp, end in end_offsets(kafka, asked).items()}
    consumer = Consumer(kafka.reader())
    consumer.assign([TopicPartition(name, p, OFFSET_BEGINNING) for p in partitions])
    found: list[Message] = []
    try:
        while any(consumer.position([TopicPartition(name, p)])[0].offset < end
                  for p, end in ends.items() if end > 0):  # fmt: skip
            for message in consumer.consume(500, timeout=0.5):
                if message.error() is None:
                    found.append(message)
    finally:
        consumer.close()
    return found


def log_in(client: httpx.Client, token: str) -> httpx.Response:
    """The browser's way in: the login form (its nonce), then the token posted with it."""
    form = client.get("/login").text
    nonce = form.split('name="nonce" value="', 1)[1].split('"', 1)[0]
    return client.post("/login", data={"token": token, "nonce": nonce})
