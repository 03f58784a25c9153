"""Publishing from the command line (replay) through the same broker the services use."""

from __future__ import annotations

from pathlib import Path

from services.core.backpressure import Backpressure
from services.core.broker import connect, ensure_groups, make_broker
from services.core.messages import RawDocument
from services.core.settings import Settings
from services.core.streams import Streams
from services.fetcher.replay import replay


async def replay_folders(settings: Settings, folders: list[Path]) -> int:
    streams = Streams(settings.stream_prefix)
    client = connect(settings)
    try:
        await ensure_groups(client, streams)
    finally:
        await client.aclose()
    client = connect(settings)
    backpressure = Backpressure(client, streams.raw, settings.raw_backlog_limit)
    try:
        async with make_broker(settings) as broker:

            async def publish(document: RawDocument) -> None:
                await backpressure.wait()
                await broker.publish(document, stream=streams.raw)

            return await replay(folders, publish)
    finally:
        await client.aclose()
