"""Keeping streams and groups healthy: groups re-created, streams trimmed, stale consumers gone.

Trimming never drops a message some group still needs: the safe point is the oldest entry
that any group has not acknowledged (its oldest pending entry, or the first entry after what
it has read). MAXLEN applies only as an emergency cap far above normal backlogs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from services.core.broker import ensure_groups
from services.core.streams import Streams

logger = logging.getLogger(__name__)


def _next_id(entry_id: str) -> str:
    ms, seq = entry_id.split("-")
    return f"{ms}-{int(seq) + 1}"


async def safe_trim_id(client: Redis, stream: str) -> str | None:
    """The lowest id some group still needs; None when the stream has no group."""
    groups: list[dict[str, Any]] = await client.xinfo_groups(stream)
    if not groups:
        return None
    needed = []
    for group in groups:
        summary = await client.xpending(stream, group["name"]) if int(group["pending"]) else None
        if summary and summary.get("min"):
            needed.append(str(summary["min"]))
        else:  # nothing pending (or all acknowledged since XINFO): what follows its last read
            needed.append(_next_id(str(group["last-delivered-id"])))
    return min(needed, key=lambda i: tuple(int(p) for p in i.split("-")))


async def trim(client: Redis, stream: str, emergency_maxlen: int) -> int:
    """Drop entries every group has acknowledged; returns how many were removed."""
    removed = 0
    minid = await safe_trim_id(client, stream)
    if minid is not None:
        removed += int(await client.xtrim(stream, minid=minid, approximate=False))
    length = int(await client.xlen(stream))
    if length > emergency_maxlen:
        # Only reached when consumers are gone for long: losing the oldest entries beats
        # losing the server to memory exhaustion.
        dropped = int(await client.xtrim(stream, maxlen=emergency_maxlen, approximate=True))
        logger.error(
            "emergency trim stream=%s length=%d cap=%d dropped=%d",
            stream,
            length,
            emergency_maxlen,
            dropped,
        )
        removed += dropped
    return removed


async def remove_consumer_if_idle(client: Redis, stream: str, group: str, consumer: str) -> bool:
    """Delete a consumer that holds no pending entries; True if deleted."""
    try:
        consumers: list[dict[str, Any]] = await client.xinfo_consumers(stream, group)
    except ResponseError:
        return False
    for info in consumers:
        if info["name"] == consumer and int(info["pending"]) == 0:
            await client.xgroup_delconsumer(stream, group, consumer)
            return True
    return False


async def prune_stale_consumers(client: Redis, stream: str, group: str, idle_ms: int) -> list[str]:
    """Delete consumers idle for longer than `idle_ms` with nothing pending (dead processes)."""
    removed = []
    for info in await client.xinfo_consumers(stream, group):
        if int(info["pending"]) == 0 and int(info["idle"]) > idle_ms:
            await client.xgroup_delconsumer(stream, group, info["name"])
            removed.append(str(info["name"]))
    if removed:
        logger.info(
            "stale consumers removed stream=%s group=%s consumers=%s", stream, group, removed
        )
    return removed


class Maintenance:
    """Periodic upkeep a consuming service runs for its input streams."""

    def __init__(
        self,
        client: Redis,
        streams: Streams,
        inputs: Sequence[str],
        *,
        interval: float,
        emergency_maxlen: int,
        stale_consumer_ms: int,
    ) -> None:
        self._client = client
        self._streams = streams
        self._inputs = list(inputs)
        self._interval = interval
        self._emergency_maxlen = emergency_maxlen
        self._stale_ms = stale_consumer_ms

    async def once(self) -> None:
        # Re-creating groups covers a server that restarted without its data.
        await ensure_groups(self._client, self._streams)
        groups = self._streams.groups()
        for stream in self._inputs:
            await trim(self._client, stream, self._emergency_maxlen)
            await prune_stale_consumers(self._client, stream, groups[stream], self._stale_ms)

    async def run(self, stopping: asyncio.Event) -> None:
        """Every `interval` seconds until `stopping` is set."""
        while not stopping.is_set():
            try:
                await self.once()
            except (RedisError, OSError) as exc:
                logger.warning("maintenance skipped reason=%s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self._interval)
