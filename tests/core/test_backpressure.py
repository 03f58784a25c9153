"""Back-pressure against a real server: a producer waits while raw is over its backlog."""

import asyncio

from redis.asyncio import Redis

from services.core.backpressure import Backpressure, backlog
from services.core.broker import ensure_groups
from services.core.streams import PARSER_GROUP, Streams


async def test_backlog_counts_unread_and_pending(client: Redis, streams: Streams) -> None:
    await ensure_groups(client, streams)
    for n in range(5):
        await client.xadd(streams.raw, {"__data__": str(n)})
    assert await backlog(client, streams.raw, PARSER_GROUP) == 5
    read = await client.xreadgroup(PARSER_GROUP, "p", {streams.raw: ">"}, count=2)
    assert await backlog(client, streams.raw, PARSER_GROUP) == 5  # 3 unread + 2 pending
    await client.xack(streams.raw, PARSER_GROUP, *(i for i, _ in read[0][1]))
    assert await backlog(client, streams.raw, PARSER_GROUP) == 3


async def test_producer_waits_until_consumers_catch_up(client: Redis, streams: Streams) -> None:
    await ensure_groups(client, streams)
    for n in range(8):
        await client.xadd(streams.raw, {"__data__": str(n)})
    gate = Backpressure(client, streams.raw, limit=5, check_every=0.0, pause=0.05)
    waiting = asyncio.create_task(gate.wait())
    await asyncio.sleep(0.3)
    assert not waiting.done()
    read = await client.xreadgroup(PARSER_GROUP, "p", {streams.raw: ">"}, count=4)
    await client.xack(streams.raw, PARSER_GROUP, *(i for i, _ in read[0][1]))
    await asyncio.wait_for(waiting, timeout=5)
    assert gate.waited > 0.2
