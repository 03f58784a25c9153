"""The fetcher service: replays folders and polls feeds, publishing raw documents."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faststream import FastStream
from faststream.redis import RedisBroker
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.core.backpressure import Backpressure
from services.core.broker import (
    connect,
    ensure_groups,
    make_broker,
    specification,
    wait_for_broker,
)
from services.core.lifecycle import stop_task
from services.core.messages import DeadLetter, RawDocument
from services.core.metrics import DEAD, FETCHED, MetricsServer
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

# Dead letters from the fetcher come from no stream: retrying one means downloading again.
FETCHER_STAGE = "fetcher"


@dataclass
class Fetcher:
    """The fetcher's working parts, as the service runs them (also driven by the benchmark)."""

    streams: Streams
    broker: RedisBroker
    client: Redis
    state: FetcherState
    http: HttpClient
    poller: FeedPoller
    publish: Callable[[RawDocument], Awaitable[None]]

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.client.aclose()


def build_fetcher(settings: Settings) -> Fetcher:
    """Broker, Redis client, HTTP client, robots cache, host limiter, state and poller."""
    streams = Streams(settings.stream_prefix)
    broker = make_broker(settings)
    client = connect(settings)
    state = FetcherState(client, streams)
    http = HttpClient(
        settings.user_agent,
        allow_private=settings.allow_private_networks,
        timeout=settings.fetch_timeout,
    )

    backpressure = Backpressure(client, streams.raw, settings.raw_backlog_limit)
    to_raw = broker.publisher(stream=streams.raw, schema=RawDocument, title="raw")
    to_dead = broker.publisher(stream=streams.dead, schema=DeadLetter, title="dead")

    async def publish(document: RawDocument) -> None:
        # A broker outage is waited out here, so polls and replays resume where they were.
        delay = 0.5
        while True:
            try:
                await backpressure.wait()
                await to_raw.publish(document)
                FETCHED.labels(document.source).inc()
                return
            except (RedisError, OSError) as exc:
                logger.warning(
                    "publish failed url=%s retry_in=%.1fs reason=%s", document.url, delay, exc
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def dead_letter(url: str, error: str, attempts: int, payload: dict[str, Any]) -> None:
        letter = DeadLetter(
            stage=FETCHER_STAGE,
            stream="",
            message_id=url,
            error=error,
            deliveries=attempts,
            payload=payload,
        )
        await to_dead.publish(letter)
        DEAD.labels(FETCHER_STAGE).inc()

    poller = FeedPoller(
        http,
        RobotsCache(http, settings.user_agent),
        HostLimiter(settings.host_concurrency, settings.host_delay),
        state,
        publish,
        dead_letter,
        Limits(
            feed_max_bytes=settings.feed_max_bytes,
            page_max_bytes=settings.page_max_bytes,
            max_attempts=settings.max_deliveries,
            concurrency=settings.fetch_concurrency,
        ),
    )
    return Fetcher(streams, broker, client, state, http, poller, publish)


def build_app(
    settings: Settings | None = None, replay_dirs: list[Path] | None = None
) -> FastStream:
    settings = settings or Settings()
    fetcher = build_fetcher(settings)
    streams, broker, client = fetcher.streams, fetcher.broker, fetcher.client
    state, poller, publish = fetcher.state, fetcher.poller, fetcher.publish
    tasks: list[asyncio.Task[None]] = []

    watcher = FeedsWatcher(settings.feeds_file)

    async def run() -> None:
        if replay_dirs:
            count = await replay(replay_dirs, publish)
            logger.info("replay done files=%d", count)
        scheduler = FeedScheduler(
            watcher,
            poller.poll,
            state.pass_completed,
            max_backoff=settings.max_backoff_seconds,
            concurrency=settings.fetch_concurrency,
            reload_seconds=settings.feeds_reload_seconds,
        )
        await scheduler.run()

    async def setup() -> None:
        await wait_for_broker(client)
        await ensure_groups(client, streams)

    def finished(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (exc := task.exception()) is not None:
            # The loop must not die silently: exit, and let the supervisor restart us.
            logger.critical("fetcher loop crashed reason=%s", exc, exc_info=exc)
            application.exit()

    metrics = MetricsServer(client, streams, settings.metrics_port)

    async def start() -> None:
        await metrics.start()
        task = asyncio.create_task(run(), name="fetcher")
        task.add_done_callback(finished)
        tasks.append(task)

    async def stop() -> None:
        await metrics.stop()
        for task in tasks:
            task.cancel()
            await stop_task(task)
        await fetcher.aclose()

    application = FastStream(
        broker,
        specification=specification(
            "fetcher", "Polls news feeds and replays saved pages into raw documents."
        ),
        logger=logger,
        on_startup=[setup],
        after_startup=[start],
        on_shutdown=[stop],
    )
    return application
