import json

from redis.asyncio import Redis

from services.core.broker import ensure_groups, make_broker
from services.core.messages import FeedEntry, RawDocument
from services.core.settings import Settings
from services.core.streams import PARSER_GROUP, STORE_GROUP, Streams


async def test_groups_created_at_zero_see_earlier_messages(client: Redis, streams: Streams) -> None:
    await client.xadd(streams.raw, {"__data__": "{}"})
    await ensure_groups(client, streams)
    await ensure_groups(client, streams)  # a second call is harmless
    groups = {g["name"]: g for g in await client.xinfo_groups(streams.raw)}
    assert groups[PARSER_GROUP]["last-delivered-id"] == "0-0"
    assert groups[PARSER_GROUP]["lag"] == 1
    assert [g["name"] for g in await client.xinfo_groups(streams.parsed)] == [STORE_GROUP]


async def test_published_messages_are_plain_json_with_arabic_unescaped(
    client: Redis, settings: Settings, streams: Streams
) -> None:
    document = RawDocument(
        id="x",
        url="https://example.com/a",
        source="test",
        entry=FeedEntry(title="عنوان", tags=["سياسة"]),
        body='<p class="x">قطر وتركيا</p>\n\t\\ \u2028',
    )
    async with make_broker(settings) as broker:
        await broker.publish(document, stream=streams.raw)
        await broker.publish({"id": "y", "n": [1, 2]}, stream=streams.raw)
    ((_, fields), (_, other)) = await client.xrange(streams.raw)
    assert set(fields) == {"__data__"}
    assert "قطر وتركيا" in fields["__data__"]
    # byte for byte what pydantic writes
    assert fields["__data__"] == document.model_dump_json()
    assert RawDocument.model_validate(json.loads(fields["__data__"])) == document
    assert json.loads(other["__data__"]) == {"id": "y", "n": [1, 2]}
