"""Reading the pipeline's progress from Redis: drained groups, counters, stream lengths."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from services.core.streams import Streams


@dataclass(frozen=True)
class Totals:
    """Running totals; the difference of two snapshots is what happened in between."""

    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    dead: int = 0

    def __sub__(self, other: Totals) -> Totals:
        return Totals(
            self.stored - other.stored,
            self.duplicates - other.duplicates,
            self.rejected - other.rejected,
            self.dead - other.dead,
        )


async def totals(client: Redis, streams: Streams) -> Totals:
    counters: dict[Any, Any] = await client.hgetall(streams.counters)
    return Totals(
        stored=int(counters.get("stored", 0)),
        duplicates=int(counters.get("duplicates", 0)),
        rejected=int(await client.xlen(streams.rejected)),
        dead=int(await client.xlen(streams.dead)),
    )


async def group_drained(client: Redis, stream: str, group: str) -> bool:
    """True when the group has read every entry of the stream and acknowledged all of them."""
    info = await client.xinfo_stream(stream)
    last = info["last-generated-id"]
    for entry in await client.xinfo_groups(stream):
        if entry["name"] == group:
            return bool(entry["pending"] == 0 and entry["last-delivered-id"] == last)
    return False


async def pipeline_drained(client: Redis, streams: Streams) -> bool:
    """Every consumed stream drained, checked upstream first.

    Each stage publishes downstream before acknowledging upstream, so once `raw` is drained
    everything it led to is already in `parsed`, and checking `parsed` after it is enough.
    """
    for stream, group in streams.groups().items():
        if not await group_drained(client, stream, group):
            return False
    return True


async def fetcher_pass_since(client: Redis, streams: Streams, since: float) -> bool:
    """True once the fetcher finished a full pass (replay, every feed polled) after `since`."""
    value = await client.hget(streams.fetcher_state, "last_pass_at")
    return value is not None and float(value) >= since
