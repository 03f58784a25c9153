"""Prometheus metrics and the health endpoint every service serves on AKHBAR_METRICS_PORT.

FastStream's middleware counts messages per handler; the counters here count what akhbar
did with them. The stream gauges are read from the server at each scrape, so every service
reports the same backlog. `/healthz` answers 200 while the broker answers PING, 503 otherwise.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from services.core.streams import STREAM_KINDS, Streams

logger = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

FETCHED = Counter("akhbar_fetched", "Raw documents published", ["source"], registry=REGISTRY)
PARSED = Counter("akhbar_parsed", "Corpus records published by the parser", registry=REGISTRY)
REJECTED = Counter("akhbar_rejected", "Documents rejected", ["reason"], registry=REGISTRY)
STORED = Counter("akhbar_stored", "Records appended to the corpus", registry=REGISTRY)
DUPLICATES = Counter("akhbar_duplicates", "Records dropped as duplicates", registry=REGISTRY)
DEAD = Counter("akhbar_dead", "Messages dead-lettered", ["stage"], registry=REGISTRY)
EXTRACTION = Histogram(
    "akhbar_extraction_seconds",
    "Time a parser worker takes to turn one raw document into a record or a rejection",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)

FEED_FAILURES = Gauge(
    "akhbar_feed_consecutive_failures",
    "Failed polls of a feed since its last good one (0 once a poll succeeds)",
    ["feed"],
    registry=REGISTRY,
)
BROKER_UP = Gauge(
    "akhbar_broker_up",
    "1 if the broker answered at the last scrape, 0 if not (the other gauges are then stale)",
    registry=REGISTRY,
)
STREAM_LENGTH = Gauge(
    "akhbar_stream_length", "Entries in a stream, history included", ["stream"], registry=REGISTRY
)
GROUP_LAG = Gauge(
    "akhbar_group_lag",
    "Entries of a stream its consumer group has not read yet",
    ["stream", "group"],
    registry=REGISTRY,
)
GROUP_PENDING = Gauge(
    "akhbar_group_pending",
    "Entries a consumer group has read and not yet acknowledged",
    ["stream", "group"],
    registry=REGISTRY,
)


async def refresh_stream_gauges(client: Redis, streams: Streams) -> None:
    """Read each stream's length and its groups' lag and pending count into the gauges."""
    for kind in STREAM_KINDS:
        key = streams.key(kind)
        STREAM_LENGTH.labels(kind).set(int(await client.xlen(key)))
        try:
            groups: list[dict[str, Any]] = await client.xinfo_groups(key)
        except ResponseError:  # the stream does not exist yet
            continue
        for group in groups:
            GROUP_PENDING.labels(kind, group["name"]).set(int(group["pending"]))
            # Valkey reports no lag (None) after entries were deleted mid-stream.
            if group.get("lag") is not None:
                GROUP_LAG.labels(kind, group["name"]).set(int(group["lag"]))


class MetricsServer:
    """A small HTTP server for `/metrics` and `/healthz`."""

    def __init__(self, client: Redis, streams: Streams, port: int, host: str = "0.0.0.0") -> None:
        self._client = client
        self._streams = streams
        self._port = port
        self._host = host
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        if self._port < 0:
            return
        self._server = await asyncio.start_server(self._serve, self._host, self._port)
        logger.info("metrics listening port=%d", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _healthy(self) -> bool:
        try:
            return bool(await asyncio.wait_for(self._client.ping(), timeout=2))
        except (RedisError, OSError, TimeoutError):
            return False

    async def _refresh(self) -> None:
        try:
            await asyncio.wait_for(refresh_stream_gauges(self._client, self._streams), timeout=2)
        except (RedisError, OSError, TimeoutError) as exc:
            # The counters are still worth serving; the gauges keep their last reading.
            BROKER_UP.set(0)
            logger.debug("stream gauges not refreshed reason=%s", exc)
        else:
            BROKER_UP.set(1)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), timeout=5)
            path = request.split(b" ")[1].decode() if request.count(b" ") >= 2 else ""
            if path == "/metrics":
                await self._refresh()
                status, kind, body = "200 OK", CONTENT_TYPE_LATEST, generate_latest(REGISTRY)
            elif path == "/healthz":
                healthy = await self._healthy()
                status = "200 OK" if healthy else "503 Service Unavailable"
                kind, body = "text/plain", b"ok\n" if healthy else b"broker unreachable\n"
            else:
                status, kind, body = "404 Not Found", "text/plain", b"not found\n"
            head = f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
            writer.write(head.encode() + b"Connection: close\r\n\r\n" + body)
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
