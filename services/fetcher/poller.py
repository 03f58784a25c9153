"""One poll of one feed: conditional GET, parse, download each new article, publish it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from services.core.errors import (
    FetchError,
    RateLimitedError,
    RefusedFetchError,
    TemporaryFetchError,
)
from services.core.messages import FeedEntry, RawDocument, document_id
from services.core.metrics import FEED_FAILURES
from services.core.urls import canonical_url
from services.fetcher.charset import decode_body
from services.fetcher.feedparse import Entry, parse_feed
from services.fetcher.feeds import Feed
from services.fetcher.http import HttpClient, Response, raise_for_status
from services.fetcher.politeness import HostLimiter
from services.fetcher.robots import RobotsCache
from services.fetcher.state import FetcherState

logger = logging.getLogger(__name__)

Publish = Callable[[RawDocument], Awaitable[object]]
# stage-independent dead letter: (url, error, attempts, payload)
DeadLetterFn = Callable[[str, str, int, dict[str, Any]], Awaitable[object]]

PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.5"
FEED_ACCEPT = (
    "application/rss+xml,application/atom+xml,application/feed+json,"
    "application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.5"
)
# Longest pause a 429/503 may impose on a host before the feed's own backoff takes over.
MAX_HOST_PAUSE = 3600.0


@dataclass(frozen=True)
class PollResult:
    """How a poll went; `retry_after` is the server's request when it asked us to wait."""

    ok: bool
    status: str
    new_entries: int = 0
    published: int = 0
    failures: int = 0
    error: str | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class Limits:
    feed_max_bytes: int
    page_max_bytes: int
    max_attempts: int
    concurrency: int


def page_problem(response: Response) -> str | None:
    """Why a downloaded article is not a page akhbar reads, or None if it is one."""
    media = response.content_type.split(";")[0].strip().lower()
    if media and media not in PAGE_TYPES:
        return f"content type {media} is not HTML"
    if b"\x00" in response.body[:4096]:
        return "binary body"
    if not response.body.strip():
        return "empty body"
    return None


class FeedPoller:
    """Polls feeds and publishes their new articles as raw documents."""

    def __init__(
        self,
        http: HttpClient,
        robots: RobotsCache,
        limiter: HostLimiter,
        state: FetcherState,
        publish: Publish,
        dead_letter: DeadLetterFn,
        limits: Limits,
    ) -> None:
        self._http = http
        self._robots = robots
        self._limiter = limiter
        self._state = state
        self._publish = publish
        self._dead_letter = dead_letter
        self._limits = limits
        self._downloads = asyncio.Semaphore(limits.concurrency)

    async def poll(self, feed: Feed) -> PollResult:
        known = await self._state.feed(feed.name)
        headers = {"Accept": FEED_ACCEPT}
        if known.get("etag"):
            headers["If-None-Match"] = known["etag"]
        if known.get("last_modified"):
            headers["If-Modified-Since"] = known["last_modified"]
        try:
            # A site's feeds share its politeness limits with its articles: one with many
            # section feeds is not sent them all at once.
            async with self._limiter.slot(urlsplit(feed.url).netloc):
                response = await self._http.get(
                    feed.url, max_bytes=self._limits.feed_max_bytes, headers=headers
                )
            if response.status == 304:
                await self._state.record_success(feed.name, status="not_modified")
                FEED_FAILURES.labels(feed.name).set(0)
                logger.debug("feed not modified feed=%s", feed.name)
                return PollResult(ok=True, status="not_modified")
            raise_for_status(response)
            parsed = await asyncio.to_thread(
                parse_feed, response.body, response.headers, response.url
            )
        except FetchError as exc:
            return await self._feed_failed(feed, exc)
        entries = self._distinct(parsed.entries)
        fresh = await self._state.unseen(list(entries))
        results = await asyncio.gather(*(self._article(feed, entries[url]) for url in fresh))
        published = sum(1 for r in results if r)
        await self._state.record_success(
            feed.name,
            status="ok",
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            entries=len(parsed.entries),
            new_entries=len(fresh),
        )
        FEED_FAILURES.labels(feed.name).set(0)
        if published:
            await self._state.count(feed.name, "articles_published", published)
        logger.info(
            "feed polled feed=%s format=%s entries=%d new=%d published=%d",
            feed.name,
            parsed.format,
            len(parsed.entries),
            len(fresh),
            published,
        )
        return PollResult(
            ok=True,
            status="ok",
            new_entries=len(fresh),
            published=published,
            failures=len(fresh) - published,
        )

    async def _feed_failed(self, feed: Feed, exc: FetchError) -> PollResult:
        status = "rejected" if isinstance(exc, RefusedFetchError) else "error"
        failures = await self._state.record_failure(feed.name, status=status, error=str(exc))
        FEED_FAILURES.labels(feed.name).set(failures)
        logger.warning(
            "feed failed feed=%s url=%s status=%s failures=%d reason=%s",
            feed.name,
            feed.url,
            status,
            failures,
            exc,
        )
        retry_after = exc.retry_after if isinstance(exc, RateLimitedError) else None
        return PollResult(ok=False, status=status, error=str(exc), retry_after=retry_after)

    @staticmethod
    def _distinct(entries: list[Entry]) -> dict[str, Entry]:
        """Entries by canonical URL; a feed listing one article twice yields one download."""
        distinct: dict[str, Entry] = {}
        for entry in entries:
            distinct.setdefault(canonical_url(entry.url), entry)
        return distinct

    async def _article(self, feed: Feed, entry: Entry) -> bool:
        """Download and publish one article; True when published."""
        key = canonical_url(entry.url)
        try:
            async with self._downloads:
                document = await self._download(feed, entry)
        except TemporaryFetchError as exc:
            attempts = await self._state.failed_attempt(key)
            if attempts < self._limits.max_attempts:
                logger.info(
                    "article retry later feed=%s url=%s attempts=%d reason=%s",
                    feed.name,
                    entry.url,
                    attempts,
                    exc,
                )
                return False
            await self._give_up(feed, entry, key, f"{exc} (after {attempts} attempts)", attempts)
            return False
        except RefusedFetchError as exc:
            await self._give_up(feed, entry, key, str(exc), 1)
            return False
        if document is None:
            await self._state.mark_seen([key])
            await self._state.count(feed.name, "robots_disallowed")
            return False
        await self._publish(document)
        await self._state.mark_seen({key, canonical_url(document.url)})
        return True

    async def _download(self, feed: Feed, entry: Entry) -> RawDocument | None:
        if not await self._robots.allowed(entry.url):
            logger.info("robots.txt disallows feed=%s url=%s", feed.name, entry.url)
            return None
        host = urlsplit(entry.url).netloc
        if delay := await self._robots.crawl_delay(entry.url):
            self._limiter.slow_down(host, min(delay, 60.0))
        async with self._limiter.slot(host):
            response = await self._http.get(
                entry.url, max_bytes=self._limits.page_max_bytes, headers={"Accept": PAGE_ACCEPT}
            )
        try:
            raise_for_status(response)
        except RateLimitedError as exc:
            self._limiter.pause(host, min(exc.retry_after or 60.0, MAX_HOST_PAUSE))
            raise
        if problem := page_problem(response):
            raise RefusedFetchError(problem)
        text, charset = decode_body(response.body, response.content_type)
        return RawDocument(
            id=document_id(canonical_url(response.url)),
            url=response.url,
            source=feed.name,
            entry=FeedEntry(
                title=entry.title,
                published=entry.published,
                author=entry.author,
                summary=entry.summary,
                tags=entry.tags,
            ),
            feed_tags=feed.tags,
            status=response.status,
            content_type=response.content_type or "text/html",
            charset=charset,
            body=text,
        )

    async def _give_up(self, feed: Feed, entry: Entry, key: str, error: str, attempts: int) -> None:
        logger.warning("article refused feed=%s url=%s reason=%s", feed.name, entry.url, error)
        payload = {
            "url": entry.url,
            "source": feed.name,
            "feed_tags": feed.tags,
            "entry": {
                "title": entry.title,
                "published": entry.published,
                "author": entry.author,
                "summary": entry.summary,
                "tags": entry.tags,
            },
        }
        await self._dead_letter(key, error, attempts, payload)
        await self._state.mark_seen([key])
        await self._state.count(feed.name, "articles_failed")
