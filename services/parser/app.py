"""The parser service: raw documents in, corpus records (or rejections) out."""

from __future__ import annotations

from functools import partial
from typing import Any

from faststream import FastStream
from faststream.redis.annotations import RedisBatchStreamMessage, RedisStreamMessage

from services.core.delivery import message_ids
from services.core.messages import CorpusRecord, Rejection
from services.core.service import Service
from services.core.settings import Settings
from services.core.wire import parse_batch, undecoded_batch, undecoded_entry
from services.parser.consumer import RawConsumer
from services.parser.document import ParserPolicy
from services.parser.pool import BatchFunction, WorkerPool
from services.parser.worker import parse_messages


def build_app(settings: Settings | None = None, *, work: BatchFunction | None = None) -> FastStream:
    """The parser service; `work` replaces what its worker processes run (tests)."""
    service = Service(
        "parser", "Extracts clean Arabic text and metadata from raw documents.", settings
    )
    settings, streams, broker = service.settings, service.streams, service.broker
    policy = ParserPolicy.from_settings(settings)
    pool = WorkerPool(
        work or partial(parse_messages, policy=policy, time_limit=settings.parser_extract_timeout),
        items_per_worker=settings.parser_worker_tasks,
        max_worker_bytes=settings.parser_worker_max_mb << 20,
        timeout=settings.parser_extract_timeout,
    )
    service.on_close(pool.close)
    consumer = RawConsumer(
        service.client, streams, pool, service.deliveries(streams.raw), settings.max_deliveries
    )
    # Records and rejections are published by RawConsumer, in one transaction with the raw
    # messages' acknowledgement; these declare the streams in the AsyncAPI document.
    broker.publisher(stream=streams.parsed, schema=CorpusRecord, title="parsed")
    broker.publisher(stream=streams.rejected, schema=Rejection, title="rejected")

    async def on_raw(data: list[Any], message: RedisBatchStreamMessage) -> None:
        await consumer.batch(data, message_ids(message.raw_message))

    # One reader per batch the worker holds: while one's batch runs, the next waits in the
    # worker's queue, so the worker never waits for a round trip to the server.
    name = service.consumer
    for reader in [name, *(f"{name}-{n}" for n in range(2, WorkerPool.DEPTH + 1))]:
        broker.subscriber(
            stream=service.reader(streams.raw, reader, max_records=settings.parser_batch),
            title="parser",
            description="Raw documents (RawDocument JSON) to parse; dead letters go to "
            "<prefix>:dead.",
            parser=parse_batch,
            decoder=undecoded_batch,
            include_in_schema=reader == name,  # the same subscription, documented once
        )(on_raw)

    @broker.subscriber(
        stream=service.claimer(streams.raw, name), title="parser-claim", decoder=undecoded_entry
    )
    async def on_raw_claimed(data: Any, message: RedisStreamMessage) -> None:
        (message_id,) = message_ids(message.raw_message)
        await consumer.claimed(data, message_id)

    return service.app()
