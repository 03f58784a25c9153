"""Where the fetcher's documents go, against a real server: raw documents through broker
outages, dead letters a retry can download again."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from services.core.backpressure import Backpressure
from services.core.broker import ensure_groups, make_broker
from services.core.deadletters import retry
from services.core.messages import DeadLetter, RawDocument
from services.core.settings import Settings
from services.core.streams import Streams
from services.fetcher.fetcher import Outlet
from tests.helpers import stream_payloads


async def test_a_document_is_published_once_the_broker_answers_again(
    client: Redis, settings: Settings, streams: Streams
) -> None:
    await ensure_groups(client, streams)
    attempts: list[str] = []
    async with make_broker(settings) as broker:

        async def to_raw(document: RawDocument) -> None:
            attempts.append(document.url)
            if len(attempts) == 1:
                raise RedisConnectionError("connection refused")
            await broker.publish(document, stream=streams.raw)

        async def to_dead(letter: DeadLetter) -> None:
            raise AssertionError("nothing is given up on")

        outlet = Outlet(to_raw, to_dead, Backpressure(client, streams.raw, 100))
        await outlet.publish(RawDocument(id="a", url="https://example.com/a", source="s", body="x"))

    assert attempts == ["https://example.com/a"] * 2
    (raw,) = await stream_payloads(client, streams.raw)
    assert (raw["id"], raw["url"], raw["body"]) == ("a", "https://example.com/a", "x")


async def test_a_dead_letter_names_the_url_and_its_retry_downloads_again(
    client: Redis, settings: Settings, streams: Streams
) -> None:
    url = "https://example.com/a"
    await client.sadd(streams.seen_urls, url)
    await client.set(streams.fetch_attempts(url), 3)
    async with make_broker(settings) as broker:

        async def to_raw(document: RawDocument) -> None:
            raise AssertionError("nothing is published")

        async def to_dead(letter: DeadLetter) -> None:
            await broker.publish(letter, stream=streams.dead)

        outlet = Outlet(to_raw, to_dead, Backpressure(client, streams.raw, 100))
        await outlet.dead_letter(url, "timed out", 3, {"url": url, "source": "s"})

    (letter,) = await stream_payloads(client, streams.dead)
    assert (letter["stage"], letter["stream"], letter["message_id"]) == ("fetcher", "", url)
    assert (letter["error"], letter["deliveries"]) == ("timed out", 3)
    assert letter["payload"] == {"url": url, "source": "s"}

    await retry(client, streams, None)
    assert not await client.sismember(streams.seen_urls, url)
    assert await client.exists(streams.fetch_attempts(url)) == 0
    assert await client.xlen(streams.raw) == 0
