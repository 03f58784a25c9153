"""The parser service: raw documents in, corpus records (or rejections) out."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from faststream import FastStream
from faststream.redis import StreamSub
from faststream.redis.annotations import RedisBatchStreamMessage, RedisStreamMessage

from services.core.broker import (
    claimer_name,
    claimer_sub,
    connect,
    ensure_groups,
    make_broker,
    specification,
    wait_for_broker,
)
from services.core.delivery import Deliveries, message_ids
from services.core.lifecycle import Lifecycle
from services.core.messages import CorpusRecord, Rejection
from services.core.settings import Settings
from services.core.streams import PARSER_GROUP, Streams, consumer_name
from services.core.wire import parse_batch, undecoded_batch, undecoded_entry
from services.parser.consumer import RawConsumer
from services.parser.document import ParserPolicy
from services.parser.pool import BatchFunction, WorkerPool
from services.parser.worker import parse_messages

logger = logging.getLogger(__name__)


def build_app(settings: Settings | None = None, *, work: BatchFunction | None = None) -> FastStream:
    """The parser service; `work` replaces what its worker processes run (tests)."""
    settings = settings or Settings()
    streams = Streams(settings.stream_prefix)
    broker = make_broker(settings)
    client = connect(settings)
    policy = ParserPolicy.from_settings(settings)
    pool = WorkerPool(
        work or partial(parse_messages, policy=policy, time_limit=settings.parser_extract_timeout),
        items_per_worker=settings.parser_worker_tasks,
        max_worker_bytes=settings.parser_worker_max_mb << 20,
        timeout=settings.parser_extract_timeout,
    )
    consumer = RawConsumer(
        client,
        streams,
        pool,
        Deliveries(client, streams, "parser", streams.raw, PARSER_GROUP),
        settings.max_deliveries,
    )
    name = consumer_name("parser", settings.consumer_name)
    # One reader per batch the worker holds: while one's batch runs, the next waits in the
    # worker's queue, so the worker never waits for a round trip to the server.
    readers = [name, *(f"{name}-{n}" for n in range(2, WorkerPool.DEPTH + 1))]
    lifecycle = Lifecycle(
        client, streams, settings, inputs={streams.raw: [*readers, claimer_name(name)]}
    )
    # Records and rejections are published by RawConsumer, in one transaction with the raw
    # messages' acknowledgement; these declare the streams in the AsyncAPI document.
    broker.publisher(stream=streams.parsed, schema=CorpusRecord, title="parsed")
    broker.publisher(stream=streams.rejected, schema=Rejection, title="rejected")

    async def on_raw(data: list[Any], message: RedisBatchStreamMessage) -> None:
        await consumer.batch(data, message_ids(message.raw_message))

    for reader in readers:
        broker.subscriber(
            stream=StreamSub(
                streams.raw,
                group=PARSER_GROUP,
                consumer=reader,
                batch=True,
                max_records=settings.parser_batch,
            ),
            title="parser",
            description="Raw documents (RawDocument JSON) to parse; dead letters go to "
            "<prefix>:dead.",
            parser=parse_batch,
            decoder=undecoded_batch,
            include_in_schema=reader == name,  # the same subscription, documented once
        )(on_raw)

    claimer = claimer_sub(streams.raw, PARSER_GROUP, name, settings)

    @broker.subscriber(stream=claimer, title="parser-claim", decoder=undecoded_entry)
    async def on_raw_claimed(data: Any, message: RedisStreamMessage) -> None:
        (message_id,) = message_ids(message.raw_message)
        await consumer.claimed(data, message_id)

    async def setup() -> None:
        await wait_for_broker(client)
        await ensure_groups(client, streams)

    async def close() -> None:
        pool.close()
        await lifecycle.close()

    return FastStream(
        broker,
        specification=specification(
            "parser", "Extracts clean Arabic text and metadata from raw documents."
        ),
        logger=logger,
        on_startup=[setup],
        after_startup=[lifecycle.start],
        on_shutdown=[lifecycle.stop],
        after_shutdown=[close],
    )
