"""What the fetcher remembers in Redis: validators and health per feed, URLs already taken."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from services.core.streams import Streams

# Failed download attempts of an article are forgotten after this long.
ATTEMPTS_TTL = 7 * 24 * 3600


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class FetcherState:
    """Feed validators and health, the seen-set of article URLs, per-URL attempt counts."""

    def __init__(self, client: Redis, streams: Streams) -> None:
        self._client = client
        self._streams = streams

    async def feed(self, name: str) -> dict[str, str]:
        data: dict[Any, Any] = await self._client.hgetall(self._streams.feed_state(name))
        return {str(k): str(v) for k, v in data.items()}

    async def record_success(
        self,
        name: str,
        *,
        status: str,
        etag: str | None = None,
        last_modified: str | None = None,
        entries: int = 0,
        new_entries: int = 0,
    ) -> None:
        key = self._streams.feed_state(name)
        fields: dict[Any, str] = {
            "last_poll": _now_iso(),
            "status": status,
            "last_error": "",
            "failures": "0",
            "last_entries": str(entries),
        }
        if etag is not None:
            fields["etag"] = etag
        if last_modified is not None:
            fields["last_modified"] = last_modified
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=fields)
            pipe.hincrby(key, "entries_seen", new_entries)
            await pipe.execute()

    async def record_failure(self, name: str, *, status: str, error: str) -> int:
        """Record a failed poll; returns the number of consecutive failures."""
        key = self._streams.feed_state(name)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"last_poll": _now_iso(), "status": status, "last_error": error})
            pipe.hincrby(key, "failures", 1)
            _, failures = await pipe.execute()
        return int(failures)

    async def count(self, name: str, field: str, amount: int = 1) -> None:
        await self._client.hincrby(self._streams.feed_state(name), field, amount)

    async def unseen(self, urls: list[str]) -> list[str]:
        """The canonical URLs not yet taken, in order."""
        if not urls:
            return []
        flags = await self._client.smismember(self._streams.seen_urls, urls)
        return [url for url, seen in zip(urls, flags, strict=True) if not seen]

    async def mark_seen(self, urls: Iterable[str]) -> None:
        urls = list(urls)
        if not urls:
            return
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.sadd(self._streams.seen_urls, *urls)
            pipe.delete(*(self._streams.fetch_attempts(url) for url in urls))
            await pipe.execute()

    async def forget(self, url: str) -> None:
        """Let the next poll download `url` again (used when a dead letter is retried)."""
        await self._client.srem(self._streams.seen_urls, url)
        await self._client.delete(self._streams.fetch_attempts(url))

    async def failed_attempt(self, url: str) -> int:
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.incr(self._streams.fetch_attempts(url))
            pipe.expire(self._streams.fetch_attempts(url), ATTEMPTS_TTL)
            attempts, _ = await pipe.execute()
        return int(attempts)

    async def pass_completed(self) -> None:
        await self._client.hset(self._streams.fetcher_state, "last_pass_at", f"{time.time():.3f}")
