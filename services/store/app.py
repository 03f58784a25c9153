"""The store service: corpus records in, appended once to the corpus."""

from __future__ import annotations

import socket
from functools import partial
from typing import Any

from faststream import FastStream
from faststream.redis.annotations import RedisBatchStreamMessage

from services.core.delivery import message_ids
from services.core.service import Service
from services.core.settings import Settings
from services.core.wire import decode_batch, parse_batch
from services.store.consumer import ParsedConsumer
from services.store.corpus import CorpusWriter
from services.store.store import CorpusStore


def build_app(settings: Settings | None = None) -> FastStream:
    service = Service("store", "Appends each new document to the corpus once.", settings)
    settings, streams, broker = service.settings, service.streams, service.broker
    writer = CorpusWriter(
        settings.corpus_dir,
        settings.store_writer or socket.gethostname(),
        settings.corpus_rotate_bytes,
    )
    consumer = ParsedConsumer(
        CorpusStore(service.client, streams, writer, settings),
        service.deliveries(streams.parsed),
        batch_size=settings.store_batch,
        linger_seconds=settings.store_linger_seconds,
        max_deliveries=settings.max_deliveries,
    )
    name = service.consumer

    @broker.subscriber(
        stream=service.reader(streams.parsed, name, max_records=settings.store_batch),
        title="store",
        description="Corpus records (CorpusRecord JSON) to append to the corpus once.",
        parser=parse_batch,
        decoder=decode_batch,
    )
    async def on_parsed(bodies: list[dict[str, Any]], message: RedisBatchStreamMessage) -> None:
        await consumer.batch(bodies, message_ids(message.raw_message))

    @broker.subscriber(
        stream=service.claimer(streams.parsed, name, batch=True),
        title="store-claim",
        parser=parse_batch,
        decoder=decode_batch,
    )
    async def on_parsed_claimed(
        bodies: list[dict[str, Any]], message: RedisBatchStreamMessage
    ) -> None:
        await consumer.claimed(bodies, message_ids(message.raw_message))

    service.prepare(
        partial(consumer.start, service.client, name, service.consumers(streams.parsed))
    )
    return service.app()
