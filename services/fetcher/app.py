"""The fetcher service: replays folders and polls feeds, publishing raw documents."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

from faststream import FastStream

from services.core.broker import connect, ensure_groups, make_broker
from services.core.messages import DeadLetter, RawDocument
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


def build_app(
    settings: Settings | None = None, replay_dirs: list[Path] | None = None
) -> FastStream:
    settings = settings or Settings()
    streams = Streams(settings.stream_prefix)
    broker = make_broker(settings)
    client = connect(settings)
    state = FetcherState(client, streams)
    http = HttpClient(
        settings.user_agent,
        allow_private=settings.allow_private_networks,
        timeout=settings.fetch_timeout,
    )
    tasks: list[asyncio.Task[None]] = []

    async def publish(document: RawDocument) -> None:
        await broker.publish(document, stream=streams.raw)

    async def dead_letter(url: str, error: str, attempts: int, payload: dict[str, Any]) -> None:
        letter = DeadLetter(
            stage=FETCHER_STAGE,
            stream="",
            message_id=url,
            error=error,
            deliveries=attempts,
            payload=payload,
        )
        await broker.publish(letter, stream=streams.dead)

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
        await ensure_groups(client, streams)

    async def start() -> None:
        tasks.append(asyncio.create_task(run(), name="fetcher"))

    async def stop() -> None:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await http.aclose()
        await client.aclose()

    return FastStream(
        broker, logger=logger, on_startup=[setup], after_startup=[start], on_shutdown=[stop]
    )
