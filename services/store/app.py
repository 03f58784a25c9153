"""The store service: corpus records in, appended once to the corpus."""

from __future__ import annotations

import logging
import socket
from typing import Any

from faststream import FastStream
from faststream.redis import StreamSub
from faststream.redis.annotations import RedisBatchStreamMessage

from services.core.broker import connect, ensure_groups, make_broker
from services.core.handling import PERMANENT, dead_letter, message_ids
from services.core.messages import CorpusRecord
from services.core.settings import Settings
from services.core.streams import STORE_GROUP, Streams, consumer_name
from services.store.corpus import CorpusWriter
from services.store.store import CorpusStore

logger = logging.getLogger(__name__)


def build_app(settings: Settings | None = None) -> FastStream:
    settings = settings or Settings()
    streams = Streams(settings.stream_prefix)
    broker = make_broker(settings)
    client = connect(settings)
    writer = CorpusWriter(
        settings.corpus_dir,
        settings.store_writer or socket.gethostname(),
        settings.corpus_rotate_bytes,
    )
    store = CorpusStore(client, streams, writer)
    reader = StreamSub(
        streams.parsed,
        group=STORE_GROUP,
        consumer=consumer_name("store", settings.consumer_name),
        batch=True,
        max_records=settings.store_batch,
    )

    @broker.subscriber(stream=reader, title="store")
    async def on_parsed(bodies: list[dict[str, Any]], message: RedisBatchStreamMessage) -> None:
        records: list[CorpusRecord] = []
        for body, message_id in zip(bodies, message_ids(message.raw_message), strict=True):
            try:
                records.append(CorpusRecord.model_validate(body))
            except PERMANENT as exc:
                await dead_letter(
                    broker,
                    streams.dead,
                    stage="store",
                    stream=streams.parsed,
                    message_id=message_id,
                    error=exc,
                    deliveries=1,
                    payload=body,
                )
        await store.write_batch(records)

    async def setup() -> None:
        await ensure_groups(client, streams)
        await store.start()

    async def close() -> None:
        await client.aclose()

    return FastStream(broker, logger=logger, on_startup=[setup], after_shutdown=[close])
