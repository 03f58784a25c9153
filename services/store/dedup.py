"""Exact-duplicate index in Redis: canonical URL and content hash, each mapped to a record id.

The index is derived from the corpus: the store adds keys only after the records are durable
in the corpus, and rebuilds them from the corpus at startup (or with `akhbar reindex`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from redis.asyncio import Redis

from services.core.streams import Streams
from services.core.urls import canonical_url


@dataclass(frozen=True)
class Duplicate:
    """Why a record is a duplicate, and of which stored record."""

    reason: str
    of_id: str


@dataclass(frozen=True)
class IndexKeys:
    url: str
    content_hash: str

    @classmethod
    def of(cls, url: str, content_hash: str) -> IndexKeys:
        return cls(canonical_url(url), content_hash)


class ExactIndex:
    """URL and content-hash lookups against the shared Redis index."""

    def __init__(self, client: Redis, streams: Streams) -> None:
        self._client = client
        self._url_key = streams.index_key("url")
        self._hash_key = streams.index_key("hash")

    async def find(self, keys: list[IndexKeys]) -> list[Duplicate | None]:
        """For each record, the stored record it duplicates, if any."""
        if not keys:
            return []
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.hmget(self._url_key, [k.url for k in keys])
            pipe.hmget(self._hash_key, [k.content_hash for k in keys])
            by_url, by_hash = await pipe.execute()
        found: list[Duplicate | None] = []
        for url_hit, hash_hit in zip(by_url, by_hash, strict=True):
            if url_hit:
                found.append(Duplicate("url", url_hit))
            elif hash_hit:
                found.append(Duplicate("content_hash", hash_hit))
            else:
                found.append(None)
        return found

    async def add(self, entries: Iterable[tuple[IndexKeys, str]]) -> int:
        """Record keys of stored records; a key already present keeps its first record."""
        entries = list(entries)
        if not entries:
            return 0
        async with self._client.pipeline(transaction=False) as pipe:
            for keys, record_id in entries:
                pipe.hsetnx(self._url_key, keys.url, record_id)
                pipe.hsetnx(self._hash_key, keys.content_hash, record_id)
            await pipe.execute()
        return len(entries)

    async def clear(self) -> None:
        await self._client.delete(self._url_key, self._hash_key)
