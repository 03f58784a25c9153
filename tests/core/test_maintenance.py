"""Trimming and consumer upkeep against a real server."""

from redis.asyncio import Redis

from services.core.broker import ensure_groups
from services.core.maintenance import (
    Maintenance,
    Retention,
    prune_stale_consumers,
    remove_consumer_if_idle,
    retention_policy,
    trim,
)
from services.core.settings import Settings
from services.core.streams import PARSER_GROUP, STORE_GROUP, Streams


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


async def test_retention_keeps_the_newest_acknowledged_entries(
    client: Redis, streams: Streams
) -> None:
    await ensure_groups(client, streams)
    ids = await fill(client, streams.parsed, 10)
    await client.xreadgroup(STORE_GROUP, "s", {streams.parsed: ">"}, count=10)
    await client.xack(streams.parsed, STORE_GROUP, *ids)
    assert await trim(client, streams.parsed, 1_000_000, Retention(3, 3600)) == 7
    assert [str(i) for i, _ in await client.xrange(streams.parsed)] == ids[7:]
    # a window that already holds the whole stream trims nothing more
    assert await trim(client, streams.parsed, 1_000_000, Retention(3, 3600)) == 0


async def test_retention_drops_entries_older_than_its_age(client: Redis, streams: Streams) -> None:
    seconds, _ = await client.time()
    two_hours_ago = (seconds - 7200) * 1000
    old = [
        str(await client.xadd(streams.dead, {"n": n}, id=f"{two_hours_ago}-{n}")) for n in (1, 2)
    ]
    new = await fill(client, streams.dead, 3)
    assert await trim(client, streams.dead, 1_000_000, Retention(100, 3600)) == len(old)
    assert [str(i) for i, _ in await client.xrange(streams.dead)] == new
    assert await trim(client, streams.dead, 1_000_000, Retention(2, 3600)) == 1


async def test_retention_never_trims_an_unacknowledged_entry(
    client: Redis, streams: Streams
) -> None:
    await ensure_groups(client, streams)
    ids = await fill(client, streams.raw, 8)
    # ids[0] and ids[1] acknowledged, ids[2] read and pending, the rest not yet read
    await client.xreadgroup(PARSER_GROUP, "p", {streams.raw: ">"}, count=3)
    await client.xack(streams.raw, PARSER_GROUP, ids[0], ids[1])
    assert await trim(client, streams.raw, 1_000_000, Retention(0, 0)) == 2
    assert [str(i) for i, _ in await client.xrange(streams.raw)] == ids[2:]
    await client.xack(streams.raw, PARSER_GROUP, ids[2])
    assert await trim(client, streams.raw, 1_000_000, Retention(0, 0)) == 1
    assert [str(i) for i, _ in await client.xrange(streams.raw)] == ids[3:]


async def test_retention_of_a_stream_without_group_and_a_missing_stream(
    client: Redis, streams: Streams
) -> None:
    await fill(client, streams.rejected, 5)
    assert await trim(client, streams.rejected, 1_000_000, Retention(5, 3600)) == 0
    assert await trim(client, streams.rejected, 1_000_000, Retention(0, 3600)) == 5
    assert await trim(client, streams.dead, 1_000_000, Retention(0, 0)) == 0


async def test_maintenance_trims_every_stream_by_its_retention(
    client: Redis, streams: Streams, settings: Settings
) -> None:
    settings = settings.model_copy(
        update={"parsed_retention_count": 2, "rejected_retention_count": 1}
    )
    await ensure_groups(client, streams)
    ids = await fill(client, streams.parsed, 4)
    await client.xreadgroup(STORE_GROUP, "s", {streams.parsed: ">"}, count=4)
    await client.xack(streams.parsed, STORE_GROUP, *ids)
    await fill(client, streams.rejected, 3)
    await fill(client, streams.dead, 3)
    maintenance = Maintenance(
        client,
        streams,
        [streams.parsed],
        retention=retention_policy(settings, streams),
        interval=10,
        emergency_maxlen=1_000_000,
        stale_consumer_ms=60_000,
    )
    await maintenance.once()
    assert await client.xlen(streams.parsed) == 2
    assert await client.xlen(streams.rejected) == 1
    assert await client.xlen(streams.dead) == 3
