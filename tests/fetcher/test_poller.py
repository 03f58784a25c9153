"""Polling feeds from a local site, with the fetcher's state in a real server."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from redis.asyncio import Redis

from services.core.messages import RawDocument
from services.core.metrics import REGISTRY
from services.core.streams import Streams
from services.core.urls import canonical_url
from services.fetcher.feeds import Feed
from services.fetcher.http import HttpClient
from services.fetcher.politeness import HostLimiter
from services.fetcher.poller import FeedPoller, Limits
from services.fetcher.robots import RobotsCache
from services.fetcher.state import FetcherState
from tests.localsite import LocalSite, Reply, page_html, rss, seed_pages

HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml"}


@dataclass
class Harness:
    poller: FeedPoller
    state: FetcherState
    published: list[RawDocument] = field(default_factory=list)
    dead: list[tuple[str, str, int, dict[str, Any]]] = field(default_factory=list)


@pytest.fixture
async def harness(client: Redis, streams: Streams) -> AsyncIterator[Harness]:
    http = HttpClient("akhbar-test", allow_private=True, timeout=2.0)
    state = FetcherState(client, streams)
    published: list[RawDocument] = []
    dead: list[tuple[str, str, int, dict[str, Any]]] = []

    async def publish(document: RawDocument) -> None:
        published.append(document)

    async def dead_letter(url: str, error: str, attempts: int, payload: dict[str, Any]) -> None:
        dead.append((url, error, attempts, payload))

    poller = FeedPoller(
        http,
        RobotsCache(http, "akhbar-test"),
        HostLimiter(concurrency=2, delay=0.0),
        state,
        publish,
        dead_letter,
        Limits(feed_max_bytes=200_000, page_max_bytes=100_000, max_attempts=2, concurrency=4),
    )
    try:
        yield Harness(poller, state, published, dead)
    finally:
        await http.aclose()


def serve_articles(site: LocalSite) -> list[str]:
    """Both seeds as article pages; returns their URLs."""
    urls = []
    for n, (title, text) in enumerate(seed_pages()):
        site.routes[f"/news/{n}"] = Reply(headers=HTML, body=page_html(title, text).encode())
        urls.append(site.url(f"/news/{n}"))
    return urls


def etag_feed(body: bytes, etag: str = '"v1"') -> Any:
    def handler(headers: dict[str, str]) -> Reply:
        if headers.get("if-none-match") == etag:
            return Reply(304, headers={}, body=b"")
        return Reply(headers={**RSS, "ETag": etag}, body=body)

    return handler


async def test_new_entries_published_once_and_second_poll_is_304(
    site: LocalSite, harness: Harness
) -> None:
    urls = serve_articles(site)
    titles = [title for title, _ in seed_pages()]
    site.routes["/rss"] = etag_feed(rss(list(zip(titles, urls, strict=True))))
    feed = Feed(name="local", url=site.url("/rss"), tags=["gulf"])

    first = await harness.poller.poll(feed)
    assert (first.status, first.new_entries, first.published) == ("ok", 2, 2)
    by_url = {d.url: d for d in harness.published}
    assert set(by_url) == set(urls)
    document = by_url[urls[0]]
    assert document.source == "local"
    assert document.entry.title == titles[0]
    assert document.entry.published == "2020-11-21T07:00:00+00:00"
    assert document.entry.tags == ["سياسة"]
    assert document.feed_tags == ["gulf"]
    assert (document.status, document.charset) == (200, "utf-8")
    assert seed_pages()[0][1].split("\n")[0] in document.body

    second = await harness.poller.poll(feed)
    assert second.status == "not_modified"
    assert len(harness.published) == 2
    assert site.requests[-1].headers["if-none-match"] == '"v1"'
    assert site.hits("/news/0") == 1
    health = await harness.state.feed("local")
    assert (health["status"], health["failures"], health["articles_published"]) == (
        "not_modified",
        "0",
        "2",
    )
    assert health["entries_seen"] == "2"


async def test_article_in_two_feeds_downloaded_once(site: LocalSite, harness: Harness) -> None:
    urls = serve_articles(site)
    site.routes["/a"] = Reply(headers=RSS, body=rss([("x", urls[0])]))
    site.routes["/b"] = Reply(headers=RSS, body=rss([("x", urls[0] + "?utm_source=b#top")]))
    await harness.poller.poll(Feed(name="a", url=site.url("/a")))
    await harness.poller.poll(Feed(name="b", url=site.url("/b")))
    assert len(harness.published) == 1
    assert site.hits("/news/0") == 1


async def test_robots_disallow_is_obeyed(site: LocalSite, harness: Harness) -> None:
    urls = serve_articles(site)
    site.routes["/robots.txt"] = Reply(
        headers={"Content-Type": "text/plain"}, body=b"User-agent: *\nDisallow: /news/1\n"
    )
    site.routes["/rss"] = Reply(headers=RSS, body=rss([("a", urls[0]), ("b", urls[1])]))
    result = await harness.poller.poll(Feed(name="local", url=site.url("/rss")))
    assert result.published == 1
    assert [d.url for d in harness.published] == [urls[0]]
    assert site.hits("/news/1") == 0
    assert (await harness.state.feed("local"))["robots_disallowed"] == "1"


async def test_feed_429_retry_after_is_reported(site: LocalSite, harness: Harness) -> None:
    site.routes["/rss"] = Reply(429, headers={"Retry-After": "120"}, body=b"slow down")
    result = await harness.poller.poll(Feed(name="local", url=site.url("/rss")))
    assert (result.ok, result.retry_after) == (False, 120.0)
    health = await harness.state.feed("local")
    assert (health["status"], health["failures"], health["last_error"]) == (
        "error",
        "1",
        "HTTP 429",
    )


async def test_article_429_pauses_the_host_and_retries_later(
    site: LocalSite, harness: Harness
) -> None:
    urls = serve_articles(site)
    site.routes["/news/0"] = Reply(503, headers={"Retry-After": "1"}, body=b"")
    site.routes["/rss"] = Reply(headers=RSS, body=rss([("a", urls[0])]))
    result = await harness.poller.poll(Feed(name="local", url=site.url("/rss")))
    assert (result.published, harness.dead) == (0, [])
    assert await harness.state.unseen([canonical_url(urls[0])]) == [canonical_url(urls[0])]
    title, text = seed_pages()[0]
    site.routes["/news/0"] = Reply(headers=HTML, body=page_html(title, text).encode())
    again = await harness.poller.poll(Feed(name="local", url=site.url("/rss")))
    assert again.published == 1


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(headers=HTML, body=b"<p>" + "ن".encode() * 60_000), "larger than 100000 bytes"),
        (
            Reply(
                headers={**HTML, "Content-Encoding": "gzip"},
                body=gzip.compress(b"\0" * 50_000_000, compresslevel=9),
            ),
            "larger than 100000 bytes",
        ),
        (
            Reply(headers={"Content-Type": "image/png"}, body=b"\x89PNG\r\n"),
            "image/png is not HTML",
        ),
        (Reply(headers={"Content-Type": ""}, body=b"\x00\x01\x02binary"), "binary body"),
        (Reply(404, headers=HTML, body=b"gone"), "HTTP 404"),
    ],
    ids=["size-cap", "gzip-bomb", "image", "binary", "not-found"],
)
async def test_unreadable_articles_are_refused_with_a_reason(
    site: LocalSite, harness: Harness, reply: Reply, reason: str
) -> None:
    site.routes["/news/x"] = reply
    site.routes["/rss"] = Reply(headers=RSS, body=rss([("a", site.url("/news/x"))]))
    result = await harness.poller.poll(Feed(name="local", url=site.url("/rss")))
    assert result.published == 0
    ((url, error, attempts, payload),) = harness.dead
    assert reason in error
    assert (url, attempts, payload["source"]) == (canonical_url(site.url("/news/x")), 1, "local")
    # refused once, never downloaded again
    await harness.poller.poll(Feed(name="local", url=site.url("/rss")))
    assert site.hits("/news/x") == 1


async def test_timeouts_are_retried_then_dead_lettered(site: LocalSite, harness: Harness) -> None:
    site.routes["/news/slow"] = Reply(headers=HTML, body=b"<p>late</p>", delay=3.0)
    site.routes["/rss"] = Reply(headers=RSS, body=rss([("a", site.url("/news/slow"))]))
    feed = Feed(name="local", url=site.url("/rss"))
    await harness.poller.poll(feed)
    assert harness.dead == []
    await harness.poller.poll(feed)
    ((_, error, attempts, _),) = harness.dead
    assert "timed out" in error
    assert attempts == 2


async def test_windows_1256_page_and_feed_come_out_as_arabic(
    site: LocalSite, harness: Harness
) -> None:
    title, text = seed_pages()[1]
    site.routes["/news/legacy"] = Reply(
        headers={"Content-Type": "text/html"},
        body=page_html(title, text, charset="windows-1256").encode("cp1256"),
    )
    site.routes["/news/header"] = Reply(
        headers={"Content-Type": "text/html; charset=windows-1256"},
        body=page_html(title, text + "\nسطر آخر", charset="windows-1256").encode("cp1256"),
    )
    site.routes["/rss"] = Reply(
        headers={"Content-Type": "application/rss+xml"},
        body=rss(
            [(title, site.url("/news/legacy")), (title, site.url("/news/header"))],
            encoding="windows-1256",
        ),
    )
    await harness.poller.poll(Feed(name="legacy", url=site.url("/rss")))
    assert len(harness.published) == 2
    for document in harness.published:
        assert document.charset == "cp1256"
        assert document.entry.title == title
        assert text.split("\n")[0] in document.body


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(headers=HTML, body=b"<html><body><p>not a feed</p></body></html>"), "not a feed"),
        (Reply(headers=RSS, body=b""), "empty body"),
        (Reply(headers=RSS, body=b"<rss>" + b"x" * 300_000 + b"</rss>"), "larger than"),
        (Reply(headers={"Content-Type": "application/json"}, body=b'{"a": 1}'), "not a feed"),
    ],
    ids=["html", "empty", "too-large", "json-not-feed"],
)
async def test_hostile_feeds_rejected_in_health(
    site: LocalSite, harness: Harness, reply: Reply, reason: str
) -> None:
    site.routes["/rss"] = reply
    result = await harness.poller.poll(Feed(name="bad", url=site.url("/rss")))
    assert result.status == "rejected"
    health = await harness.state.feed("bad")
    assert health["status"] == "rejected"
    assert reason in health["last_error"]


async def test_xml_entity_bomb_and_external_entity_are_harmless(
    site: LocalSite, harness: Harness
) -> None:
    levels = "".join(f'<!ENTITY l{n} "{("&l" + str(n - 1) + ";") * 10}">' for n in range(1, 10))
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY l0 "lol">{levels}'
        f'<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f'<rss version="2.0"><channel><title>&l9;&x;</title>'
        f"<item><title>&l9;</title><link>{site.url('/news/none')}</link></item></channel></rss>"
    ).encode()
    site.routes["/rss"] = Reply(headers=RSS, body=bomb)
    result = await harness.poller.poll(Feed(name="bomb", url=site.url("/rss")))
    assert result.ok
    assert harness.published == []
    assert "root:" not in str(await harness.state.feed("bomb"))


async def test_unreachable_feed_is_a_logged_failure(harness: Harness) -> None:
    result = await harness.poller.poll(Feed(name="gone", url="http://127.0.0.1:9/rss"))
    assert (result.ok, result.status) == (False, "error")
    assert (await harness.state.feed("gone"))["failures"] == "1"


async def test_feeds_of_one_site_are_polled_politely(
    site: LocalSite, client: Redis, streams: Streams
) -> None:
    # Several section feeds of one site: their requests keep the host's spacing.
    started: list[float] = []

    def empty_feed(headers: dict[str, str]) -> Reply:
        started.append(time.monotonic())
        return Reply(headers=RSS, body=rss([]))

    for n in range(3):
        site.routes[f"/section/{n}.xml"] = empty_feed
    http = HttpClient("akhbar-test", allow_private=True, timeout=2.0)

    async def nothing(*args: object) -> None:
        pass

    poller = FeedPoller(
        http,
        RobotsCache(http, "akhbar-test"),
        HostLimiter(concurrency=1, delay=0.3),
        FetcherState(client, streams),
        nothing,
        nothing,
        Limits(feed_max_bytes=200_000, page_max_bytes=100_000, max_attempts=2, concurrency=4),
    )
    feeds = [Feed(name=f"s{n}", url=site.url(f"/section/{n}.xml")) for n in range(3)]
    try:
        results = await asyncio.gather(*(poller.poll(feed) for feed in feeds))
    finally:
        await http.aclose()
    assert [r.status for r in results] == ["ok"] * 3
    gaps = [later - earlier for earlier, later in itertools.pairwise(sorted(started))]
    assert len(gaps) == 2
    assert min(gaps) >= 0.25


def failures_metric(feed: str) -> float | None:
    return REGISTRY.get_sample_value("akhbar_feed_consecutive_failures", {"feed": feed})


async def test_consecutive_failures_are_a_metric_reset_by_a_good_poll(
    site: LocalSite, harness: Harness
) -> None:
    feed = Feed(name=f"gauge-{uuid.uuid4().hex[:6]}", url=site.url("/rss"))
    site.routes["/rss"] = Reply(500, body=b"down")
    await harness.poller.poll(feed)
    await harness.poller.poll(feed)
    assert failures_metric(feed.name) == 2
    site.routes["/rss"] = Reply(headers=RSS, body=rss([]))
    await harness.poller.poll(feed)
    assert failures_metric(feed.name) == 0
