"""The fetcher's working parts and its one loop: replay folders once, then poll the feeds.

What it finds leaves through an `Outlet`: raw documents to the raw stream, articles it gave
up on to the dead stream. Neither is read by the fetcher, so neither needs a group here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faststream.redis import RedisBroker
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.core.backpressure import Backpressure
from services.core.delivery import dead_letter
from services.core.messages import DeadLetter, RawDocument
from services.core.metrics import DEAD, FETCHED
from services.core.settings import Settings
from services.core.streams import Streams
from services.fetcher.feeds import FeedsWatcher
from services.fetcher.http import HttpClient
from services.fetcher.politeness import HostLimiter
from services.fetcher.poller import FeedPoller, Limits
from services.fetcher.replay import replay
from services.fetcher.robots import RobotsCache
from services.fetcher.scheduler import FeedScheduler
from services.fetcher.state import FetcherState

logger = logging.getLogger(__name__)

FETCHER_STAGE = "fetcher"


class Outlet:
    """Publishes raw documents, waiting out backpressure and broker outages, and the dead
    letters of articles the fetcher gives up on."""

    def __init__(
        self,
        to_raw: Callable[[RawDocument], Awaitable[object]],
        to_dead: Callable[[DeadLetter], Awaitable[object]],
        backpressure: Backpressure,
    ) -> None:
        self._to_raw = to_raw
        self._to_dead = to_dead
        self._backpressure = backpressure

    async def publish(self, document: RawDocument) -> None:
        # A broker outage is waited out here, so polls and replays resume where they were.
        delay = 0.5
        while True:
            try:
                await self._backpressure.wait()
                await self._to_raw(document)
                FETCHED.labels(document.source).inc()
                return
            except (RedisError, OSError) as exc:
                logger.warning(
                    "publish failed url=%s retry_in=%.1fs reason=%s", document.url, delay, exc
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def dead_letter(
        self, url: str, error: str, attempts: int, payload: dict[str, Any]
    ) -> None:
        # From no stream: the letter names the URL, and retrying it means downloading again.
        await self._to_dead(dead_letter(FETCHER_STAGE, "", url, payload, error, attempts))
        DEAD.labels(FETCHER_STAGE).inc()


@dataclass
class Fetcher:
    """The fetcher's working parts, as the service runs them (also driven by the benchmark)."""

    settings: Settings
    streams: Streams
    broker: RedisBroker
    client: Redis
    state: FetcherState
    http: HttpClient
    poller: FeedPoller
    outlet: Outlet

    @classmethod
    def assemble(
        cls,
        settings: Settings,
        streams: Streams,
        broker: RedisBroker,
        client: Redis,
        outlet: Outlet,
    ) -> Fetcher:
        """HTTP client, robots cache, host limiter, state and poller around `outlet`."""
        state = FetcherState(client, streams)
        http = HttpClient(
            settings.user_agent,
            allow_private=settings.allow_private_networks,
            timeout=settings.fetch_timeout,
        )
        poller = FeedPoller(
            http,
            RobotsCache(http, settings.user_agent),
            HostLimiter(settings.host_concurrency, settings.host_delay),
            state,
            outlet.publish,
            outlet.dead_letter,
            Limits(
                feed_max_bytes=settings.feed_max_bytes,
                page_max_bytes=settings.page_max_bytes,
                max_attempts=settings.max_deliveries,
                concurrency=settings.fetch_concurrency,
            ),
        )
        return cls(settings, streams, broker, client, state, http, poller, outlet)

    async def run(self, replay_dirs: list[Path]) -> None:
        """Replay the folders, then poll the feeds file's feeds until cancelled."""
        if replay_dirs:
            count = await replay(replay_dirs, self.outlet.publish)
            logger.info("replay done files=%d", count)
        scheduler = FeedScheduler(
            FeedsWatcher(self.settings.feeds_file),
            self.poller.poll,
            self.state.pass_completed,
            max_backoff=self.settings.max_backoff_seconds,
            concurrency=self.settings.fetch_concurrency,
            reload_seconds=self.settings.feeds_reload_seconds,
        )
        await scheduler.run()

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.client.aclose()
