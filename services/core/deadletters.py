"""The dead stream as a work queue for humans: list, retry and drop dead letters."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from services.core.messages import DeadLetter
from services.core.streams import Streams
from services.core.wire import DATA_FIELD


@dataclass(frozen=True)
class Entry:
    entry_id: str
    letter: DeadLetter


async def list_dead(client: Redis, streams: Streams, count: int | None = None) -> list[Entry]:
    """Dead letters, oldest first."""
    rows: Any = await client.xrange(streams.dead, count=count)
    return [Entry(str(i), DeadLetter.model_validate_json(f[DATA_FIELD])) for i, f in rows]


async def _select(client: Redis, streams: Streams, ids: list[str] | None) -> list[Entry]:
    entries = await list_dead(client, streams)
    if ids is None:
        return entries
    wanted = set(ids)
    return [e for e in entries if e.entry_id in wanted]


async def retry(client: Redis, streams: Streams, ids: list[str] | None) -> list[Entry]:
    """Give dead letters another go: re-publish each payload to the stream it failed on (as a
    new message, with fresh deliveries), or for the fetcher forget the URL so its feed's next
    poll downloads it again. `ids=None` means all. Returns what was retried."""
    entries = await _select(client, streams, ids)
    for entry in entries:
        letter = entry.letter
        async with client.pipeline(transaction=True) as pipe:
            if letter.stream:
                pipe.xadd(
                    letter.stream, {DATA_FIELD: json.dumps(letter.payload, ensure_ascii=False)}
                )
            else:
                pipe.srem(streams.seen_urls, letter.message_id)
                pipe.delete(streams.fetch_attempts(letter.message_id))
            pipe.xdel(streams.dead, entry.entry_id)
            await pipe.execute()
    return entries


async def drop(client: Redis, streams: Streams, ids: list[str] | None) -> list[Entry]:
    """Delete dead letters for good. `ids=None` means all. Returns what was dropped."""
    entries = await _select(client, streams, ids)
    if entries:
        await client.xdel(streams.dead, *(e.entry_id for e in entries))
    return entries
