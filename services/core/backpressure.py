"""Back-pressure: producers wait while `raw` holds more unprocessed messages than allowed."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from redis.asyncio import Redis

from services.core.streams import PARSER_GROUP

logger = logging.getLogger(__name__)


async def backlog(client: Redis, stream: str, group: str) -> int:
    """Messages of `stream` the group has not acknowledged (unread plus pending)."""
    for info in await client.xinfo_groups(stream):
        if info["name"] == group:
            lag: Any = info.get("lag")
            unread = int(lag) if lag is not None else int(await client.xlen(stream))
            return unread + int(info["pending"])
    return int(await client.xlen(stream))


class Backpressure:
    """Call `wait()` before publishing; it returns at once unless the backlog is over the limit.

    The backlog is read at most every `check_every` seconds, so a fast producer pays one
    round trip per interval, not one per message.
    """

    def __init__(
        self,
        client: Redis,
        stream: str,
        limit: int,
        *,
        group: str = PARSER_GROUP,
        check_every: float = 0.5,
        pause: float = 0.5,
    ) -> None:
        self._client = client
        self._stream = stream
        self._group = group
        self._limit = limit
        self._check_every = check_every
        self._pause = pause
        self._next_check = 0.0
        self.waited = 0.0

    async def wait(self) -> None:
        if time.monotonic() < self._next_check:
            return
        started = time.monotonic()
        logged = False
        while (size := await backlog(self._client, self._stream, self._group)) > self._limit:
            if not logged:
                logger.info(
                    "backlog over limit stream=%s backlog=%d limit=%d",
                    self._stream,
                    size,
                    self._limit,
                )
                logged = True
            await asyncio.sleep(self._pause)
        self.waited += time.monotonic() - started
        self._next_check = time.monotonic() + self._check_every
