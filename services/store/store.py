"""The store's work: drop duplicates, append the rest to the corpus, then index them."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

from redis.asyncio import Redis

from services.core.arabic import content_hash
from services.core.messages import CorpusRecord, utcnow
from services.core.streams import Streams
from services.store.corpus import CorpusWriter, iter_records
from services.store.dedup import Duplicate, ExactIndex, IndexKeys

logger = logging.getLogger(__name__)

# Records indexed per round trip when rebuilding the index from the corpus.
_REINDEX_CHUNK = 5000


@dataclass
class BatchResult:
    stored: list[CorpusRecord] = field(default_factory=list)
    duplicates: list[tuple[CorpusRecord, Duplicate]] = field(default_factory=list)


def record_keys(record: CorpusRecord) -> IndexKeys:
    return IndexKeys.of(record.url, record.content_hash or content_hash(record.text))


async def reindex(index: ExactIndex, corpus_dir: Path) -> int:
    """Add every record of the corpus to the index; returns the number of records read."""
    total = 0
    chunk: list[tuple[IndexKeys, str]] = []
    for row in iter_records(corpus_dir):
        text_hash = row.get("content_hash") or content_hash(row.get("text", ""))
        chunk.append((IndexKeys.of(row["url"], text_hash), row["id"]))
        if len(chunk) >= _REINDEX_CHUNK:
            total += await index.add(chunk)
            chunk = []
    total += await index.add(chunk)
    return total


class CorpusStore:
    """Writes batches exactly once: durable in the corpus before indexed, indexed before acked."""

    def __init__(self, client: Redis, streams: Streams, writer: CorpusWriter) -> None:
        self._client = client
        self._streams = streams
        self._writer = writer
        self.index = ExactIndex(client, streams)

    async def start(self) -> None:
        """Repair a crash-cut last line, then make the index agree with the corpus."""
        self._writer.repair()
        count = await reindex(self.index, self._writer.corpus_dir)
        logger.info("index reconciled records=%d corpus=%s", count, self._writer.corpus_dir)

    async def write_batch(self, records: list[CorpusRecord]) -> BatchResult:
        result = BatchResult()
        keys = [record_keys(r) for r in records]
        found = await self.index.find(keys)
        in_batch: dict[str, str] = {}
        fresh: list[tuple[CorpusRecord, IndexKeys]] = []
        for record, key, dup in zip(records, keys, found, strict=True):
            if dup is None:
                first = in_batch.get(key.url) or in_batch.get(key.content_hash)
                dup = Duplicate("in_batch", first) if first else None
            if dup is not None:
                result.duplicates.append((record, dup))
                logger.info(
                    "duplicate url=%s source=%s reason=%s of=%s",
                    record.url,
                    record.source,
                    dup.reason,
                    dup.of_id,
                )
                continue
            in_batch[key.url] = in_batch[key.content_hash] = record.id
            record.stored_at = utcnow()
            fresh.append((record, key))
            result.stored.append(record)
        await asyncio.to_thread(self._writer.append, [r.model_dump_json() for r, _ in fresh])
        await self.index.add((key, r.id) for r, key in fresh)
        await self._count(stored=len(result.stored), duplicates=len(result.duplicates))
        return result

    async def _count(self, **amounts: int) -> None:
        async with self._client.pipeline(transaction=False) as pipe:
            for name, amount in amounts.items():
                if amount:
                    pipe.hincrby(self._streams.counters, name, amount)
            await pipe.execute()
