"""The fetcher service in-process: a local feed's articles reach the raw stream once."""

from redis.asyncio import Redis

from services.core.settings import Settings
from services.core.streams import PARSER_GROUP, Streams
from services.fetcher.app import build_app
from tests.helpers import eventually, running, stream_payloads
from tests.localsite import LocalSite, Reply, feeds_toml, page_html, rss, seed_pages


async def test_feed_articles_flow_to_raw_and_health_is_kept(
    client: Redis, settings: Settings, streams: Streams, site: LocalSite
) -> None:
    items = []
    for n, (title, text) in enumerate(seed_pages()):
        site.routes[f"/news/{n}"] = Reply(body=page_html(title, text).encode())
        items.append((title, site.url(f"/news/{n}")))
    site.routes["/rss"] = Reply(headers={"Content-Type": "application/rss+xml"}, body=rss(items))
    feeds_toml(settings.feeds_file, [("local", site.url("/rss")), ("gone", "http://127.0.0.1:9/")])
    settings = settings.model_copy(update={"allow_private_networks": True})

    async with running(build_app(settings)):

        async def polled() -> bool:
            return await client.hget(streams.fetcher_state, "last_pass_at") is not None

        await eventually(polled)
        assert await client.xlen(streams.raw) == 2

    raw = await stream_payloads(client, streams.raw)
    assert sorted(r["url"] for r in raw) == sorted(url for _, url in items)
    assert {r["source"] for r in raw} == {"local"}
    assert {r["entry"]["title"] for r in raw} == {title for title, _ in items}
    local = await client.hgetall(streams.feed_state("local"))
    assert (local["status"], local["articles_published"]) == ("ok", "2")
    gone = await client.hgetall(streams.feed_state("gone"))
    assert (gone["status"], gone["failures"]) == ("error", "1")
    assert (await client.xinfo_groups(streams.raw))[0]["name"] == PARSER_GROUP
