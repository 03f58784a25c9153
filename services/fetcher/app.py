"""The fetcher service: replays folders and polls feeds, publishing raw documents."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

from faststream import FastStream

from services.core.broker import connect, ensure_groups, make_broker
from services.core.messages import RawDocument
from services.core.settings import Settings
from services.core.streams import Streams
from services.fetcher.feeds import load_feeds
from services.fetcher.replay import replay

logger = logging.getLogger(__name__)

# How often the fetcher looks at the feeds file when no feed is due sooner.
IDLE_SECONDS = 5.0


def build_app(
    settings: Settings | None = None, replay_dirs: list[Path] | None = None
) -> FastStream:
    settings = settings or Settings()
    streams = Streams(settings.stream_prefix)
    broker = make_broker(settings)
    client = connect(settings)
    tasks: list[asyncio.Task[None]] = []

    async def publish(document: RawDocument) -> None:
        await broker.publish(document, stream=streams.raw)

    async def run() -> None:
        if replay_dirs:
            count = await replay(replay_dirs, publish)
            logger.info("replay done files=%d", count)
        while True:
            feeds = load_feeds(settings.feeds_file)
            enabled = [f for f in feeds if f.enabled]
            if not enabled:
                logger.debug("no enabled feeds file=%s", settings.feeds_file)
            await client.hset(streams.fetcher_state, "last_pass_at", f"{time.time():.3f}")
            await asyncio.sleep(IDLE_SECONDS)

    async def setup() -> None:
        await ensure_groups(client, streams)

    async def start() -> None:
        tasks.append(asyncio.create_task(run(), name="fetcher"))

    async def stop() -> None:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await client.aclose()

    return FastStream(
        broker, logger=logger, on_startup=[setup], after_startup=[start], on_shutdown=[stop]
    )
