"""The service skeleton against a real server: the order of its lifecycle, and a tidy exit."""

from __future__ import annotations

import asyncio
from typing import Any

from faststream.redis.annotations import RedisBatchStreamMessage
from redis.asyncio import Redis

from services.core.broker import claimer_name
from services.core.delivery import message_ids
from services.core.service import Service
from services.core.settings import Settings
from services.core.streams import PARSER_GROUP, Streams
from services.core.wire import DATA_FIELD, decode_batch, parse_batch
from tests.helpers import eventually, running


def named(settings: Settings, name: str) -> Settings:
    return settings.model_copy(update={"consumer_name": name})


async def test_preparation_runs_after_the_groups_and_before_any_read(
    client: Redis, settings: Settings, streams: Streams
) -> None:
    await client.xadd(streams.raw, {DATA_FIELD: '{"n": 1}'})
    service = Service("parser", "test", named(settings, "reader"))
    events: list[str] = []

    async def prepare() -> None:
        groups = await client.xinfo_groups(streams.raw)
        events.append(f"prepare groups={[g['name'] for g in groups]}")
        await asyncio.sleep(0.2)  # a read now would come before the preparation's end

    @service.broker.subscriber(
        stream=service.reader(streams.raw, service.consumer, max_records=10),
        parser=parse_batch,
        decoder=decode_batch,
    )
    async def on_raw(bodies: list[Any], message: RedisBatchStreamMessage) -> None:
        events.append(f"read {bodies} ids={len(message_ids(message.raw_message))}")

    service.prepare(prepare)
    async with running(service.app()):
        await eventually(lambda: _holds(events, 2))
    assert events == [f"prepare groups={[PARSER_GROUP]}", "read [{'n': 1}] ids=1"]


async def _holds(events: list[str], count: int) -> bool:
    return len(events) >= count


async def test_idle_consumers_leave_their_group_and_pending_ones_stay(
    client: Redis, settings: Settings, streams: Streams
) -> None:
    service = Service("parser", "test", named(settings, "reader"))
    closed: list[str] = []
    service.broker.subscriber(stream=service.reader(streams.raw, "reader", max_records=1))(_ignore)
    service.broker.subscriber(stream=service.claimer(streams.raw, "reader"))(_ignore)
    service.on_close(lambda: closed.append("sync"))

    async def close_async() -> None:
        # The client is still connected while the service's own closing runs.
        closed.append(f"async ping={await service.client.ping()}")

    service.on_close(close_async)
    assert service.consumers(streams.raw) == ["reader", claimer_name("reader")]

    async with running(service.app()):

        async def registered() -> bool:
            consumers = await client.xinfo_consumers(streams.raw, PARSER_GROUP)
            return {c["name"] for c in consumers} >= {"reader", claimer_name("reader")}

        await eventually(registered)
        # Another consumer holding an entry: not this process's to remove.
        await client.xadd(streams.raw, {DATA_FIELD: "{}"})
        await client.xgroup_createconsumer(streams.raw, PARSER_GROUP, "other")

    consumers = await client.xinfo_consumers(streams.raw, PARSER_GROUP)
    names = {c["name"] for c in consumers}
    assert "reader" not in names
    assert claimer_name("reader") not in names
    assert "other" in names
    assert closed == ["sync", "async ping=True"]


async def test_a_pending_entry_keeps_its_consumer(
    client: Redis, settings: Settings, streams: Streams
) -> None:
    service = Service("parser", "test", named(settings, "holder"))
    service.reader(streams.raw, "holder", max_records=1)
    async with running(service.app()):
        await client.xadd(streams.raw, {DATA_FIELD: "{}"})
        # Read as this consumer and never acknowledged (a handler cut short).
        await client.xreadgroup(PARSER_GROUP, "holder", {streams.raw: ">"}, count=1)
    consumers = await client.xinfo_consumers(streams.raw, PARSER_GROUP)
    assert [(c["name"], c["pending"]) for c in consumers] == [("holder", 1)]


async def test_a_crashed_loop_ends_the_service(settings: Settings, client: Redis) -> None:
    service = Service("fetcher", "test", settings)
    started = asyncio.Event()

    async def loop() -> None:
        started.set()
        raise RuntimeError("the loop broke")

    service.run_in_background("fetcher", loop)
    app = service.app()
    # `run` returns only once something asked the application to exit.
    await asyncio.wait_for(app.run(), timeout=30)
    assert started.is_set()


async def test_a_loop_is_cancelled_on_shutdown(settings: Settings) -> None:
    service = Service("fetcher", "test", settings)
    ran = asyncio.Event()
    cancelled = asyncio.Event()

    async def loop() -> None:
        ran.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    service.run_in_background("fetcher", loop)
    async with running(service.app()):
        await asyncio.wait_for(ran.wait(), timeout=10)
    assert cancelled.is_set()


async def _ignore(body: Any) -> None:
    return None
