"""`akhbar reindex`: throw the dedup index away and build it again from the corpus.

Meant for a stopped pipeline (or at least stopped stores): the index is cleared, so a store
running meanwhile could keep a copy of a story whose keys were not back yet. The index is
bound to this corpus afterwards, whatever corpus it served before.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from services.core.settings import Settings
from services.core.streams import Streams
from services.store.binding import rebind
from services.store.dedup import KeyMaker
from services.store.minhash import MinHasher
from services.store.store import build_index


@dataclass(frozen=True)
class ReindexReport:
    removed_keys: int
    records: int


async def reindex(client: Redis, settings: Settings) -> ReindexReport:
    """Clear every index key under the prefix, then add every record of the corpus."""
    streams = Streams(settings.stream_prefix)
    index = build_index(client, streams, settings)
    keymaker = KeyMaker(MinHasher(index.params))
    removed, count = await rebind(client, streams, index, keymaker, settings.corpus_dir)
    return ReindexReport(removed, count)
