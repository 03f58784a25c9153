"""The metrics and health endpoint, with a real server behind it."""

from __future__ import annotations

import httpx
from redis.asyncio import Redis

from services.core.metrics import DEAD, MetricsServer


async def test_metrics_and_health(client: Redis) -> None:
    DEAD.labels("test").inc()
    server = MetricsServer(client, port=0, host="127.0.0.1")
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
    assert (health.status_code, health.text) == (200, "ok\n")
    assert missing.status_code == 404


async def test_health_fails_without_the_broker() -> None:
    unreachable = Redis.from_url("redis://127.0.0.1:9", socket_connect_timeout=0.5)
    server = MetricsServer(unreachable, port=0, host="127.0.0.1")
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            health = await http.get("/healthz")
    finally:
        await server.stop()
        await unreachable.aclose()
    assert health.status_code == 503
