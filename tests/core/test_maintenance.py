"""Trimming and consumer upkeep against a real server."""

from redis.asyncio import Redis

from services.core.broker import ensure_groups
from services.core.maintenance import prune_stale_consumers, remove_consumer_if_idle, trim
from services.core.streams import PARSER_GROUP, Streams


async def fill(client: Redis, stream: str, count: int) -> list[str]:
    return [str(await client.xadd(stream, {"__data__": str(n)})) for n in range(count)]


async def test_trim_keeps_every_unacknowledged_message(client: Redis, streams: Streams) -> None:
    await ensure_groups(client, streams)
    await client.xgroup_create(streams.raw, "audit", id="0")
    ids = await fill(client, streams.raw, 10)
    # parser reads 6 and acknowledges 4 of them (ids[2] and ids[5] stay pending)
    await client.xreadgroup(PARSER_GROUP, "p", {streams.raw: ">"}, count=6)
    await client.xack(streams.raw, PARSER_GROUP, ids[0], ids[1], ids[3], ids[4])
    # audit reads and acknowledges the first 8
    await client.xreadgroup("audit", "a", {streams.raw: ">"}, count=8)
    await client.xack(streams.raw, "audit", *ids[:8])

    assert await trim(client, streams.raw, emergency_maxlen=1_000_000) == 2
    remaining = [str(i) for i, _ in await client.xrange(streams.raw)]
    assert remaining == ids[2:]
    await client.xack(streams.raw, PARSER_GROUP, ids[2], ids[5])
    # parser has everything up to ids[5] acknowledged; ids[6:] it has not read yet
    assert await trim(client, streams.raw, emergency_maxlen=1_000_000) == 4
    remaining = [str(i) for i, _ in await client.xrange(streams.raw)]
    assert remaining == ids[6:]


async def test_stream_without_groups_is_left_alone(client: Redis, streams: Streams) -> None:
    await fill(client, streams.rejected, 5)
    assert await trim(client, streams.rejected, emergency_maxlen=1_000_000) == 0
    assert await client.xlen(streams.rejected) == 5


async def test_emergency_cap_applies_only_above_it(client: Redis, streams: Streams) -> None:
    await ensure_groups(client, streams)
    await fill(client, streams.raw, 3000)
    assert await trim(client, streams.raw, emergency_maxlen=5000) == 0
    assert await trim(client, streams.raw, emergency_maxlen=1000) > 0
    assert await client.xlen(streams.raw) < 3000


async def test_consumers_removed_only_without_pending(client: Redis, streams: Streams) -> None:
    await ensure_groups(client, streams)
    ids = await fill(client, streams.raw, 2)
    await client.xreadgroup(PARSER_GROUP, "busy", {streams.raw: ">"}, count=1)
    await client.xreadgroup(PARSER_GROUP, "done", {streams.raw: ">"}, count=1)
    await client.xack(streams.raw, PARSER_GROUP, ids[1])
    assert not await remove_consumer_if_idle(client, streams.raw, PARSER_GROUP, "busy")
    assert await remove_consumer_if_idle(client, streams.raw, PARSER_GROUP, "done")
    names = [c["name"] for c in await client.xinfo_consumers(streams.raw, PARSER_GROUP)]
    assert names == ["busy"]


async def test_stale_consumers_pruned(client: Redis, streams: Streams) -> None:
    await ensure_groups(client, streams)
    await client.xgroup_createconsumer(streams.raw, PARSER_GROUP, "old")
    assert await prune_stale_consumers(client, streams.raw, PARSER_GROUP, idle_ms=60_000) == []
    assert await prune_stale_consumers(client, streams.raw, PARSER_GROUP, idle_ms=-1) == ["old"]
