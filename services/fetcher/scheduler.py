"""When each feed is polled: its interval, jittered; longer after failures; Retry-After obeyed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable

from services.core.metrics import FEED_FAILURES
from services.fetcher.feeds import Feed, FeedsWatcher
from services.fetcher.poller import PollResult

logger = logging.getLogger(__name__)

JITTER = 0.1


def next_delay(
    feed: Feed, result: PollResult, failures: int, max_backoff: float, rng: random.Random
) -> float:
    """Seconds until the next poll of `feed` after `result`."""
    base = feed.interval * (1 + rng.uniform(-JITTER, JITTER))
    if result.ok:
        return base
    backoff = min(float(feed.interval * 2 ** min(failures, 16)), max_backoff)
    return max(backoff, result.retry_after or 0.0)


class FeedScheduler:
    """Runs due polls concurrently and reports when every enabled feed has been polled once."""

    def __init__(
        self,
        watcher: FeedsWatcher,
        poll: Callable[[Feed], Awaitable[PollResult]],
        on_pass: Callable[[], Awaitable[object]],
        *,
        max_backoff: float,
        concurrency: int = 8,
        reload_seconds: float = 2.0,
        rng: random.Random | None = None,
    ) -> None:
        self._watcher = watcher
        self._poll = poll
        self._on_pass = on_pass
        self._max_backoff = max_backoff
        self._slots = asyncio.Semaphore(concurrency)
        self._reload = reload_seconds
        self._rng = rng or random.Random()
        self._due: dict[str, float] = {}
        self._failures: dict[str, int] = {}
        self._polled: set[str] = set()
        self._running: dict[str, asyncio.Task[None]] = {}

    def _enabled(self) -> dict[str, Feed]:
        return {f.name: f for f in self._watcher.feeds if f.enabled}

    async def _poll_one(self, feed: Feed) -> None:
        async with self._slots:
            try:
                result = await self._poll(feed)
            except Exception as exc:  # one feed's bug must not stop the others
                logger.exception("poll crashed feed=%s reason=%s", feed.name, exc)
                result = PollResult(ok=False, status="error", error=str(exc))
        failures = 0 if result.ok else self._failures.get(feed.name, 0) + 1
        self._failures[feed.name] = failures
        delay = next_delay(feed, result, failures, self._max_backoff, self._rng)
        self._due[feed.name] = time.monotonic() + delay
        self._polled.add(feed.name)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.pop(task.get_name().removeprefix("poll-"), None)

    async def step(self) -> float:
        """Start the polls that are due; returns how long to sleep before the next step."""
        if self._watcher.refresh():
            for name in set(self._due) - set(self._enabled()):
                self._due.pop(name, None)
                # A feed taken out of the file (or disabled) must not keep alerting.
                with contextlib.suppress(KeyError):
                    FEED_FAILURES.remove(name)
        now = time.monotonic()
        enabled = self._enabled()
        for name, feed in enabled.items():
            due = self._due.setdefault(name, now)
            if due <= now and name not in self._running:
                task = asyncio.create_task(self._poll_one(feed), name=f"poll-{name}")
                self._running[name] = task
                task.add_done_callback(self._finished)
        if set(enabled) <= self._polled:
            await self._on_pass()
        upcoming = [d for n, d in self._due.items() if n not in self._running]
        return max(0.05, min([self._reload, *(d - now for d in upcoming)]))

    async def run(self) -> None:
        try:
            while True:  # noqa: ASYNC110 - sleeps until the next feed is due, a time not an event
                await asyncio.sleep(await self.step())
        finally:
            for task in list(self._running.values()):
                task.cancel()
            await asyncio.gather(*self._running.values(), return_exceptions=True)
