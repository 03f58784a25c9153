"""The metrics and health endpoint, with a real server behind it."""

from __future__ import annotations

import httpx
from redis.asyncio import Redis

from services.core.broker import ensure_groups
from services.core.metrics import DEAD, MetricsServer
from services.core.streams import PARSER_GROUP, Streams


async def test_metrics_and_health(client: Redis, streams: Streams) -> None:
    DEAD.labels("test").inc()
    await ensure_groups(client, streams)
    for n in range(5):
        await client.xadd(streams.raw, {"__data__": str(n)})
    await client.xreadgroup(PARSER_GROUP, "p", {streams.raw: ">"}, count=2)
    server = MetricsServer(client, streams, port=0, host="127.0.0.1")
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            metrics = await http.get("/metrics")
            health = await http.get("/healthz")
            missing = await http.get("/nope")
    finally:
        await server.stop()
    assert metrics.status_code == 200
    assert 'akhbar_dead_total{stage="test"}' in metrics.text
    assert "akhbar_extraction_seconds_bucket" in metrics.text
    # the backlog as the server reports it at the time of the scrape
    assert "akhbar_broker_up 1.0" in metrics.text
    assert 'akhbar_stream_length{stream="raw"} 5.0' in metrics.text
    assert 'akhbar_group_lag{group="parser",stream="raw"} 3.0' in metrics.text
    assert 'akhbar_group_pending{group="parser",stream="raw"} 2.0' in metrics.text
    assert (health.status_code, health.text) == (200, "ok\n")
    assert missing.status_code == 404


async def test_health_fails_without_the_broker(streams: Streams) -> None:
    unreachable = Redis.from_url("redis://127.0.0.1:9", socket_connect_timeout=0.5)
    server = MetricsServer(unreachable, streams, port=0, host="127.0.0.1")
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            health = await http.get("/healthz")
            metrics = await http.get("/metrics")
    finally:
        await server.stop()
        await unreachable.aclose()
    assert health.status_code == 503
    assert metrics.status_code == 200
    assert "akhbar_broker_up 0.0" in metrics.text
