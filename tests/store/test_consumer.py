"""The store's consumer against a real server: the delivery policy around a corpus batch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from services.core.broker import ensure_groups
from services.core.delivery import Deliveries
from services.core.settings import Settings
from services.core.streams import STORE_GROUP, Streams
from services.core.wire import DATA_FIELD
from services.store.consumer import ParsedConsumer
from services.store.corpus import CorpusWriter, iter_records
from services.store.store import CorpusStore
from tests.helpers import stream_payloads
from tests.store.factory import record

STORY = "وقعت دولة قطر اليوم اتفاقاً مع حلف شمال الأطلسي لافتتاح مكاتب بعثة في بروكسل."
OTHER = "اجتمع رئيس الأركان القطري مع الملحق العسكري التركي لبحث التعاون العسكري."


def make_consumer(
    client: Redis, streams: Streams, corpus: Path, max_deliveries: int = 5
) -> ParsedConsumer:
    settings = Settings(redis_url=None, stream_prefix=streams.prefix)
    store = CorpusStore(client, streams, CorpusWriter(corpus, "test", 1 << 20), settings)
    return ParsedConsumer(
        store,
        Deliveries(client, streams, "store", streams.parsed, STORE_GROUP),
        batch_size=10,
        linger_seconds=0,
        max_deliveries=max_deliveries,
    )


async def read(client: Redis, streams: Streams, consumer: str, bodies: list[Any]) -> list[str]:
    """Publish `bodies` and read them as `consumer`, leaving them pending."""
    for body in bodies:
        await client.xadd(streams.parsed, {DATA_FIELD: json.dumps(body, ensure_ascii=False)})
    reply: Any = await client.xreadgroup(STORE_GROUP, consumer, {streams.parsed: ">"})
    return [entry_id for entry_id, _ in reply[0][1]]


async def pending(client: Redis, streams: Streams) -> int:
    return int((await client.xpending(streams.parsed, STORE_GROUP))["pending"])


async def test_an_invalid_body_is_dead_lettered_at_once_and_the_rest_stored(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    await ensure_groups(client, streams)
    consumer = make_consumer(client, streams, tmp_path)
    await consumer.start(client, "store-1", ["store-1"])
    bodies = [
        record("r1", "https://example.com/1", STORY).model_dump(mode="json"),
        {"id": "broken"},
        record("r2", "https://example.com/2", OTHER).model_dump(mode="json"),
    ]
    ids = await read(client, streams, "store-1", bodies)

    await consumer.batch(bodies, ids)

    assert [r["id"] for r in iter_records(tmp_path)] == ["r1", "r2"]
    (letter,) = await stream_payloads(client, streams.dead)
    assert (letter["stage"], letter["stream"], letter["message_id"]) == (
        "store",
        streams.parsed,
        ids[1],
    )
    assert (letter["payload"], letter["deliveries"]) == ({"id": "broken"}, 1)
    assert letter["error"].startswith("ValidationError: ")
    assert await pending(client, streams) == 0


async def test_a_claimed_message_past_its_deliveries_is_dead_lettered_unwritten(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    await ensure_groups(client, streams)
    consumer = make_consumer(client, streams, tmp_path, max_deliveries=2)
    await consumer.start(client, "store-1", ["store-1"])
    body = record("r1", "https://example.com/1", STORY).model_dump(mode="json")
    (message_id,) = await read(client, streams, "store-1", [body])
    deliveries = Deliveries(client, streams, "store", streams.parsed, STORE_GROUP)
    await deliveries.failed(message_id, OSError("disk full"))
    for claimer in ("store-2", "store-3"):  # two more deliveries: three in all
        await client.xclaim(streams.parsed, STORE_GROUP, claimer, 0, [message_id])

    await consumer.claimed([body], [message_id])

    assert list(iter_records(tmp_path)) == []
    (letter,) = await stream_payloads(client, streams.dead)
    assert letter["error"] == "gave up after 2 deliveries: OSError: disk full"
    assert (letter["deliveries"], letter["payload"]["id"]) == (2, "r1")
    assert await pending(client, streams) == 0


async def test_a_claimed_message_within_its_deliveries_is_stored(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    await ensure_groups(client, streams)
    consumer = make_consumer(client, streams, tmp_path, max_deliveries=2)
    await consumer.start(client, "store-1", ["store-1"])
    body = record("r1", "https://example.com/1", STORY).model_dump(mode="json")
    (message_id,) = await read(client, streams, "store-1", [body])
    await client.xclaim(streams.parsed, STORE_GROUP, "store-2", 0, [message_id])

    await consumer.claimed([body], [message_id])

    assert [r["id"] for r in iter_records(tmp_path)] == ["r1"]
    assert await client.xlen(streams.dead) == 0
    assert await pending(client, streams) == 0


async def test_start_handles_what_the_same_name_left_pending(
    client: Redis, streams: Streams, tmp_path: Path
) -> None:
    await ensure_groups(client, streams)
    bodies = [
        record("r1", "https://example.com/1", STORY).model_dump(mode="json"),
        record("r2", "https://example.com/2", OTHER).model_dump(mode="json"),
    ]
    await read(client, streams, "store-1", bodies)  # read by a process since killed

    await make_consumer(client, streams, tmp_path).start(client, "store-1", ["store-1"])

    assert [r["id"] for r in iter_records(tmp_path)] == ["r1", "r2"]
    assert await pending(client, streams) == 0
