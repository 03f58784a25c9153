"""Per-host politeness: a cap on concurrent requests and a minimum delay between them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class HostLimiter:
    """At most `concurrency` requests per host at once, started at least `delay` apart."""

    def __init__(self, concurrency: int = 2, delay: float = 1.0) -> None:
        self._concurrency = concurrency
        self._delay = delay
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._next_start: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._host_delay: dict[str, float] = {}

    def pause(self, host: str, seconds: float) -> None:
        """Start nothing on `host` for `seconds` (a 429/503 with Retry-After, say)."""
        until = time.monotonic() + seconds
        self._next_start[host] = max(self._next_start.get(host, 0.0), until)

    def slow_down(self, host: str, delay: float) -> None:
        """Space this host's requests further apart (robots.txt Crawl-delay)."""
        self._host_delay[host] = max(self._delay, delay)

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        semaphore = self._slots.setdefault(host, asyncio.Semaphore(self._concurrency))
        async with semaphore:
            async with self._locks.setdefault(host, asyncio.Lock()):
                wait = self._next_start.get(host, 0.0) - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                delay = self._host_delay.get(host, self._delay)
                self._next_start[host] = time.monotonic() + delay
            yield
