"""The HTTP front door in process: the ASGI app over an in-memory publisher, driven through
httpx's own ASGI transport (no sockets, no broker)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import httpx
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette

from services.ingest.http_app import IngestApp
from services.ingest.metrics import IngestMetrics
from services.ingest.settings import IngestSettings
from tests.unit.ingest.payloads import FixedClock, MemoryPublisher

Headers = Mapping[str, str] | Mapping[bytes, bytes] | Sequence[tuple[str, str]]


class Client:
    """Requests straight into the ASGI app through httpx's own ASGI transport."""

    def __init__(self, app: Starlette, metrics: IngestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    def post(self, path: str, content: bytes, headers: Headers) -> httpx.Response:
        return asyncio.run(self._send("POST", path, content, headers))

    def get(self, path: str) -> httpx.Response:
        return asyncio.run(self._send("GET", path, b"", {}))

    async def _send(
        self,
        method: str,
        path: str,
        content: bytes,
        headers: Headers,
    ) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="https://leads.example.com"
        ) as client:
            return await client.request(method, path, content=content, headers=headers)


def client_for(publisher: MemoryPublisher, **settings: object) -> Client:
    """The door with `IngestSettings(**settings)`; the publisher takes its lead size limit."""
    config = IngestSettings(**settings)  # type: ignore[arg-type]
    publisher.max_lead_bytes = config.max_lead_bytes
    metrics = IngestMetrics.create(CollectorRegistry())
    return Client(IngestApp(config, publisher, metrics, FixedClock()).asgi(), metrics)
