"""The parser service in-process against a real server: routing, acks and dead letters."""

from redis.asyncio import Redis

from services.core.broker import ensure_groups, make_broker
from services.core.messages import RawDocument
from services.core.settings import Settings
from services.core.streams import PARSER_GROUP, Streams
from services.parser.app import build_app
from tests.conftest import SEEDS, seed_article
from tests.helpers import eventually, running, stream_payloads
from tests.parser.conftest import PERSIAN, article_page
from tests.parser.stub_workers import flaky_parse


async def test_raw_documents_routed_to_parsed_rejected_and_dead(
    client: Redis, settings: Settings, streams: Streams
) -> None:
    seed = sorted(SEEDS.glob("*.txt"))[0]
    title, text = seed_article(seed)
    documents = [
        RawDocument(
            id="seed",
            url="file:///seed.txt",
            source="replay",
            content_type="text/plain",
            body=seed.read_text(encoding="utf-8"),
        ),
        RawDocument(
            id="page",
            url="https://example.com/a",
            source="site",
            body=article_page(title, text.split("\n")),
        ),
        RawDocument(
            id="fa",
            url="https://example.ir/a",
            source="site",
            body=article_page("عنوان", [PERSIAN]),
        ),
    ]
    async with running(build_app(settings)):
        async with make_broker(settings) as broker:
            for document in documents:
                await broker.publish(document, stream=streams.raw)
            await broker.publish(
                {"id": "broken", "url": "https://example.com/b"}, stream=streams.raw
            )

        async def all_routed() -> bool:
            lengths = [
                await client.xlen(s) for s in (streams.parsed, streams.rejected, streams.dead)
            ]
            return sum(lengths) == 4

        await eventually(all_routed)

    parsed = {p["id"]: p for p in await stream_payloads(client, streams.parsed)}
    assert set(parsed) == {"seed", "page"}
    assert parsed["seed"]["title"] == title
    assert parsed["seed"]["text"] == text
    assert parsed["page"]["title"] == title
    assert text.split("\n")[-1] in parsed["page"]["text"]
    (rejected,) = await stream_payloads(client, streams.rejected)
    assert (rejected["id"], rejected["reason"], rejected["language"]) == ("fa", "language", "fa")
    (dead,) = await stream_payloads(client, streams.dead)
    assert (dead["stage"], dead["stream"], dead["payload"]["id"]) == (
        "parser",
        streams.raw,
        "broken",
    )
    assert "body" in dead["error"]
    assert (await client.xpending(streams.raw, PARSER_GROUP))["pending"] == 0


async def test_oversized_page_is_dead_lettered_with_its_reason(
    client: Redis, settings: Settings, streams: Streams
) -> None:
    small = settings.model_copy(update={"parser_max_html_bytes": 4096})
    page = article_page("عنوان", ["خبر طويل جدا " * 400])
    document = RawDocument(id="big", url="https://example.com/big", source="site", body=page)
    async with running(build_app(small)):
        async with make_broker(small) as broker:
            await broker.publish(document, stream=streams.raw)

        async def dead_lettered() -> bool:
            return bool(await client.xlen(streams.dead))

        await eventually(dead_lettered)

    (dead,) = await stream_payloads(client, streams.dead)
    assert dead["payload"]["id"] == "big"
    assert dead["error"].startswith("DocumentTooLargeError:")
    assert "limit is 4096" in dead["error"]
    assert await client.xlen(streams.parsed) == 0
    assert (await client.xpending(streams.raw, PARSER_GROUP))["pending"] == 0


async def test_batch_with_a_failing_document_acknowledges_the_others(
    client: Redis, settings: Settings, streams: Streams
) -> None:
    documents = [
        RawDocument(
            id=name,
            url=f"file:///{name}.txt",
            source="replay",
            content_type="text/plain",
            body=path.read_text(encoding="utf-8"),
        )
        for name, path in zip(("a", "flaky", "b"), sorted(SEEDS.glob("*.txt")) * 2, strict=False)
    ]
    await ensure_groups(client, streams)
    flaky_id = ""
    for document in documents:
        entry = await client.xadd(streams.raw, {"__data__": document.model_dump_json()})
        flaky_id = entry if document.id == "flaky" else flaky_id
    # claiming waits far longer than this test
    async with running(build_app(settings, work=flaky_parse)):

        async def parsed() -> bool:
            return await client.xlen(streams.parsed) == 2

        await eventually(parsed)
    pending = await client.xpending_range(streams.raw, PARSER_GROUP, min="-", max="+", count=10)
    assert [p["message_id"] for p in pending] == [flaky_id]
    assert sorted(p["id"] for p in await stream_payloads(client, streams.parsed)) == ["a", "b"]
