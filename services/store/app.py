"""The store service: corpus records in, appended once to the corpus."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

from faststream import FastStream
from faststream.redis import StreamSub
from faststream.redis.annotations import RedisBatchStreamMessage

from services.core.broker import (
    claimer_name,
    claimer_sub,
    connect,
    ensure_groups,
    make_broker,
    specification,
    wait_for_broker,
)
from services.core.delivery import PERMANENT, Deliveries, as_payload, guarded, message_ids
from services.core.lifecycle import Lifecycle
from services.core.messages import CorpusRecord
from services.core.metrics import DUPLICATES, STORED
from services.core.settings import Settings
from services.core.streams import STORE_GROUP, Streams, consumer_name
from services.core.wire import decode_batch, parse_batch
from services.store.corpus import CorpusWriter
from services.store.pending import recover_pending
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
    store = CorpusStore(client, streams, writer, settings)
    deliveries = Deliveries(client, streams, "store", streams.parsed, STORE_GROUP)
    consumer = consumer_name("store", settings.consumer_name)
    lifecycle = Lifecycle(
        client, streams, settings, inputs={streams.parsed: [consumer, claimer_name(consumer)]}
    )

    async def store_batch(records: list[CorpusRecord], ids: list[str]) -> None:
        result = await store.write_batch(records, ids)
        STORED.inc(len(result.stored))
        DUPLICATES.inc(len(result.duplicates))

    async def handle(bodies: list[Any], ids: list[str], claimed: bool = False) -> None:
        records: list[CorpusRecord] = []
        record_ids: list[str] = []
        for body, message_id in zip(bodies, ids, strict=True):
            try:
                records.append(CorpusRecord.model_validate(body))
                record_ids.append(message_id)
            except PERMANENT as exc:
                payload = as_payload(body)
                error = f"{type(exc).__name__}: {exc}"
                await deliveries.dead_letter(message_id, payload, error, deliveries=1)
        if claimed and record_ids:
            # XAUTOCLAIM hands the claimer one message at a time: apply the delivery limit.
            (message_id,) = record_ids
            await guarded(
                deliveries,
                message_id,
                bodies[0],
                lambda: store_batch(records, record_ids),
                claimed=True,
                max_deliveries=settings.max_deliveries,
            )
            return
        try:
            await store_batch(records, record_ids)
        except Exception as exc:
            for message_id in record_ids:
                await deliveries.failed(message_id, exc)
            raise

    reader = StreamSub(
        streams.parsed,
        group=STORE_GROUP,
        consumer=consumer,
        batch=True,
        max_records=settings.store_batch,
    )
    claimer = claimer_sub(streams.parsed, STORE_GROUP, consumer, settings, batch=True)

    @broker.subscriber(
        stream=reader,
        title="store",
        description="Corpus records (CorpusRecord JSON) to append to the corpus once.",
        parser=parse_batch,
        decoder=decode_batch,
    )
    async def on_parsed(bodies: list[dict[str, Any]], message: RedisBatchStreamMessage) -> None:
        await handle(list(bodies), message_ids(message.raw_message))
        if len(bodies) < settings.store_batch:
            # Each batch costs two round trips and an fsync whatever its size: at a trickle,
            # let records gather for a moment instead of settling them one by one.
            await asyncio.sleep(settings.store_linger_seconds)

    @broker.subscriber(
        stream=claimer, title="store-claim", parser=parse_batch, decoder=decode_batch
    )
    async def on_parsed_claimed(
        bodies: list[dict[str, Any]], message: RedisBatchStreamMessage
    ) -> None:
        await handle(list(bodies), message_ids(message.raw_message), claimed=True)

    async def setup() -> None:
        await wait_for_broker(client)
        await ensure_groups(client, streams)
        await store.start(own_consumers=[consumer, claimer_name(consumer)])
        # Before the subscriber starts: entries this consumer name read and never
        # acknowledged (a killed process with the same name) come first.
        await recover_pending(
            client, streams.parsed, STORE_GROUP, consumer, settings.store_batch, handle
        )

    return FastStream(
        broker,
        specification=specification("store", "Appends each new document to the corpus once."),
        logger=logger,
        on_startup=[setup],
        after_startup=[lifecycle.start],
        on_shutdown=[lifecycle.stop],
        after_shutdown=[lifecycle.close],
    )
