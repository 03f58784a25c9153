"""The wire format's batch hooks against a real server: the same bodies, decoded once."""

from typing import Any

import pytest
from faststream.redis import StreamSub
from faststream.redis.annotations import RedisBatchStreamMessage
from redis.asyncio import Redis

from services.core.broker import make_broker
from services.core.delivery import message_ids
from services.core.settings import Settings
from services.core.streams import Streams
from services.core.wire import decode_batch, parse_batch
from tests.helpers import eventually

ENTRIES: list[dict[str, str]] = [
    {"__data__": '{"id": "a", "body": "قطر وتركيا"}'},
    {"__data__": "[1, 2, 3]"},
    {"__data__": "not json at all"},
    {"other": "a field FastStream did not write"},
]


@pytest.mark.parametrize("hooks", [False, True], ids=["faststream", "parse_batch"])
async def test_batch_bodies_and_ids_as_faststream_gives_them(
    hooks: bool, client: Redis, settings: Settings, streams: Streams
) -> None:
    ids = [await client.xadd(streams.raw, dict(fields)) for fields in ENTRIES]
    await client.xgroup_create(streams.raw, "readers", id="0")
    received: list[tuple[list[Any], list[str]]] = []
    broker = make_broker(settings)
    options: dict[str, Any] = {"parser": parse_batch, "decoder": decode_batch} if hooks else {}

    @broker.subscriber(
        stream=StreamSub(streams.raw, group="readers", consumer="c", batch=True, max_records=10),
        **options,
    )
    async def read(bodies: list[Any], message: RedisBatchStreamMessage) -> None:
        received.append((list(bodies), message_ids(message.raw_message)))

    async with broker:
        await broker.start()
        await eventually(lambda: _true(bool(received)))

    ((bodies, received_ids),) = received
    assert received_ids == ids
    assert bodies == [
        {"id": "a", "body": "قطر وتركيا"},
        [1, 2, 3],
        "not json at all",
        {"other": "a field FastStream did not write"},
    ]
    assert (await client.xpending(streams.raw, "readers"))["pending"] == 0  # acknowledged


async def _true(value: bool) -> bool:
    return value
