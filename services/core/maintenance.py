"""Keeping streams and groups healthy: groups re-created, streams trimmed, stale consumers gone.

Trimming never drops a message some group still needs: the safe point is the oldest entry
that any group has not acknowledged (its oldest pending entry, or the first entry after what
it has read). Below that point, each stream keeps its retention window of history (a number
of entries and an age, both settings) so that `akhbar tail` has something to show; streams
without a group (rejected, dead) are trimmed by their window alone. MAXLEN applies only as an
emergency cap far above normal backlogs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from services.core.broker import ensure_groups
from services.core.settings import Settings
from services.core.streams import Streams

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retention:
    """How much acknowledged history a stream keeps: its newest `count` entries, and of
    those only the ones younger than `seconds`."""

    count: int
    seconds: float


def retention_policy(settings: Settings, streams: Streams) -> dict[str, Retention]:
    """Each of akhbar's streams and the history it keeps."""
    return {
        streams.raw: Retention(settings.raw_retention_count, settings.raw_retention_seconds),
        streams.parsed: Retention(
            settings.parsed_retention_count, settings.parsed_retention_seconds
        ),
        streams.rejected: Retention(
            settings.rejected_retention_count, settings.rejected_retention_seconds
        ),
        streams.dead: Retention(settings.dead_retention_count, settings.dead_retention_seconds),
    }


def _key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def _next_id(entry_id: str) -> str:
    ms, seq = _key(entry_id)
    return f"{ms}-{seq + 1}"


async def retention_start(client: Redis, stream: str, retention: Retention) -> str | None:
    """The oldest id the retention window keeps; None when it keeps the whole stream."""
    newest: Any = await client.xrevrange(stream, count=max(retention.count, 1))
    if not newest:
        return None
    if retention.count == 0:
        by_count: str | None = _next_id(str(newest[0][0]))
    else:
        by_count = str(newest[-1][0]) if len(newest) >= retention.count else None
    # The server's clock, not this host's: entry ids are the server's milliseconds.
    seconds, micros = await client.time()
    now_ms = seconds * 1000 + micros // 1000
    by_age = f"{max(0, now_ms - int(retention.seconds * 1000))}-0"
    start = by_age if by_count is None else max(by_age, by_count, key=_key)
    first: Any = await client.xrange(stream, count=1)
    if _key(start) <= _key(str(first[0][0])):
        return None
    return start


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
    return min(needed, key=_key)


async def trim(
    client: Redis, stream: str, emergency_maxlen: int, retention: Retention | None = None
) -> int:
    """Drop entries every group has acknowledged and the retention window (if any) no longer
    keeps; returns how many were removed. A stream without a group is trimmed only by its
    retention window."""
    if not await client.exists(stream):
        return 0
    removed = 0
    needed = await safe_trim_id(client, stream)  # None: no group needs anything
    minid = needed
    if retention is not None:
        kept_from = await retention_start(client, stream, retention)  # None: keeps it all
        minid = (
            kept_from if kept_from is None or needed is None else min(needed, kept_from, key=_key)
        )
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
    """Periodic upkeep a consuming service runs: its input streams' groups and consumers, and
    every stream's trimming (each consuming service trims all of them, so any one running
    keeps them in bounds)."""

    def __init__(
        self,
        client: Redis,
        streams: Streams,
        inputs: Sequence[str],
        *,
        retention: Mapping[str, Retention],
        interval: float,
        emergency_maxlen: int,
        stale_consumer_ms: int,
    ) -> None:
        self._client = client
        self._streams = streams
        self._inputs = list(inputs)
        self._retention = dict(retention)
        self._interval = interval
        self._emergency_maxlen = emergency_maxlen
        self._stale_ms = stale_consumer_ms

    async def once(self) -> None:
        # Re-creating groups covers a server that restarted without its data.
        await ensure_groups(self._client, self._streams)
        for stream, retention in self._retention.items():
            removed = await trim(self._client, stream, self._emergency_maxlen, retention)
            if removed and stream == self._streams.dead:
                # Failures nobody retried or dropped: worth a line, they leave no other trace.
                logger.warning("dead letters past their retention dropped count=%d", removed)
        groups = self._streams.groups()
        for stream in self._inputs:
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
